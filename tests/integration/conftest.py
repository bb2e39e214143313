"""Real handlers against moto in server mode: boto3 goes over HTTP to a real endpoint, as in AWS.

Resources are made from template.yaml's own properties, so tests and template cannot drift.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from local import moto_patches
from tests.support import AUTH_TOKEN, ROOT, FakeContext, sqs_event

if TYPE_CHECKING:
    from local.aws import Aws

REGION = "us-east-1"
HASH_KEY = "test-hash-key"        # HashKeySecret's: the key of the marks an erase leaves of a customer's numbers
_IMPORT_LOCK = threading.Lock()   # importing a handler swaps os.environ: one at a time


class _Tag:
    def __init__(self, tag: str, value: Any):
        self.tag, self.value = tag, value


def _cfn_loader() -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
        if isinstance(node, yaml.ScalarNode):
            return _Tag(suffix, loader.construct_scalar(node))
        if isinstance(node, yaml.SequenceNode):
            return _Tag(suffix, loader.construct_sequence(node, deep=True))
        return _Tag(suffix, loader.construct_mapping(node, deep=True))

    Loader.add_multi_constructor("!", construct)
    return Loader


TEMPLATE = yaml.load((ROOT / "template.yaml").read_text(), Loader=_cfn_loader())  # noqa: S506 (safe loader subclass)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                       "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    """The local stack's own AWS endpoint (local/aws.py's Aws: moto behind its keep-alive server), one per module."""
    from local.aws import Aws  # imported here: it changes werkzeug's server for every test that loads it

    stack = Aws(REGION)
    stack.start()
    yield stack
    stack.stop()


@dataclass
class Desk:
    """One isolated set of resources made from the template, and the handlers wired to it."""

    endpoint: str
    table_name: str
    work_queue_url: str
    outbound_queue_url: str
    bus_name: str
    secret_arn: str
    env: dict[str, str]
    modules: dict[str, ModuleType] = field(default_factory=dict)
    # The router routes a new message seconds after ingest stored it, before any agent could read it, and until then
    # its conversation is no team's (shopdesk.logic.access): so an agent API request first runs the router on the work
    # waiting for it (``route_work``). A test that runs the router itself, at the moments it chooses (what an agent
    # sees before the routing, work retried or lost), sets this False.
    routes_before_agents: bool = True

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def handler(self, name: str, **overrides: str) -> ModuleType:
        """Import functions/<name>/app.py afresh with only its environment (settings load at import)."""
        key = name + json.dumps(overrides, sort_keys=True)
        with _IMPORT_LOCK:
            return self._import(key, name, overrides)

    def _import(self, key: str, name: str, overrides: dict[str, str]) -> ModuleType:
        if key not in self.modules:
            saved = dict(os.environ)
            os.environ.update({**self.env, **overrides})
            try:
                spec = importlib.util.spec_from_file_location(f"fn_{name}_{uuid.uuid4().hex}",
                                                              ROOT / "functions" / name / "app.py")
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            self.modules[key] = module
        return self.modules[key]

    def invoke(self, name: str, event: dict[str, Any], **overrides: str) -> Any:
        if name == "agent_api" and self.routes_before_agents and self.route_work() and "router" in self.modules:
            # the router's next run reads the settings afresh, as a test that changes them next expects of it
            self.modules["router"].book._loaded_at = -1e9
        return self.handler(name, **overrides).lambda_handler(event, FakeContext())

    def route_work(self) -> list[str]:
        """Run the router on what waits on the work queue as Lambda's event source does, a batch at a time until a
        record fails (it waits for its retry: the next call) or nothing is left; the bodies it was given. An
        invocation that dies (an exception out of the handler, as a timeout ends it) leaves its records to be
        delivered again."""
        sqs = self.client("sqs")
        url = self.work_queue_url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bodies: list[str] = []

        def again(handle: str) -> None:          # visible again at once: the next call is its retry
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)

        while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                              MessageSystemAttributeNames=["All"]).get("Messages", []):
            bodies.extend(m["Body"] for m in received)
            try:
                result = self.invoke("router", sqs_event(received, arn))
            except BaseException:
                for m in received:
                    again(m["ReceiptHandle"])
                raise
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for m in received:
                if m["MessageId"] in failed:
                    again(m["ReceiptHandle"])
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if failed:
                break
        return bodies

    def drain_queue(self, queue_url: str, function: str, *, rounds: int = 20, **overrides: str) -> int:
        """Poll a queue like Lambda's event source: invoke, delete what did not fail. Returns batches run."""
        sqs = self.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        batches = 0
        for _ in range(rounds):
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           MessageSystemAttributeNames=["All"]).get("Messages", [])
            if not received:
                break
            batches += 1
            result = self.invoke(function, sqs_event(received, arn), **overrides)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for m in received:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return batches

    def item(self, pk: str, sk: str = "META") -> dict[str, Any] | None:
        from shopdesk.dal.table import deserialize
        got = self.client("dynamodb").get_item(TableName=self.table_name,
                                               Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True)
        return deserialize(got["Item"]) if "Item" in got else None


def _resolve_props(props: Any, names: dict[str, str]) -> Any:
    if isinstance(props, _Tag):
        return names.get(props.tag, "x")
    if isinstance(props, dict):
        return {k: _resolve_props(v, names) for k, v in props.items()}
    if isinstance(props, list):
        return [_resolve_props(v, names) for v in props]
    return props


@pytest.fixture
def desk(moto_endpoint: str) -> Iterator[Desk]:
    yield make_desk(moto_endpoint)


def make_desk(moto_endpoint: str) -> Desk:
    """A desk of its own resources (a module-scoped fixture can make one for several tests)."""
    suffix = uuid.uuid4().hex[:8]
    resources = TEMPLATE["Resources"]
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_endpoint)
    table_props = resources["DeskTable"]["Properties"]
    table_name = f"desk-{suffix}"
    ddb.create_table(TableName=table_name, BillingMode=table_props["BillingMode"],
                     AttributeDefinitions=table_props["AttributeDefinitions"], KeySchema=table_props["KeySchema"],
                     GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
                     StreamSpecification={"StreamEnabled": True, **table_props["StreamSpecification"]})
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_endpoint)

    def fifo(logical: str) -> str:
        props = resources[logical]["Properties"]
        dlq = sqs.create_queue(QueueName=f"{logical}-dlq-{suffix}.fifo", Attributes={"FifoQueue": "true"})
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
        redrive = {"deadLetterTargetArn": dlq_arn["QueueArn"],
                   "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"]}
        return sqs.create_queue(QueueName=f"{logical}-{suffix}.fifo", Attributes={
            "FifoQueue": "true", "VisibilityTimeout": str(props["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]

    work, outbound, privacy = fifo("WorkQueue"), fifo("OutboundQueue"), fifo("PrivacyQueue")
    ingest_retry = fifo("IngestRetryQueue")
    bus = f"bus-{suffix}"
    boto3.client("events", region_name=REGION, endpoint_url=moto_endpoint).create_event_bus(Name=bus)
    secret = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint).create_secret(
        Name=f"twilio-{suffix}", SecretString=json.dumps({"account_sid": "AC00000000000000000000000000000000",
                                                          "auth_token": AUTH_TOKEN}))["ARN"]
    sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint)
    meta_secret = sm.create_secret(Name=f"meta-{suffix}", SecretString=json.dumps(
        {"app_secret": "test_app_secret", "verify_token": "meatyhamhock", "access_token": "test-access-token"}))["ARN"]
    telegram_secret = sm.create_secret(Name=f"telegram-{suffix}", SecretString=json.dumps(
        {"bot_token": "123456789:test-bot-token", "secret_token": "test_secret_token-1"}))["ARN"]
    webchat_secret = sm.create_secret(Name=f"webchat-{suffix}", SecretString=json.dumps(
        {"visitor_secret": "test-visitor-secret", "session_secret": "test-session-secret"}))["ARN"]
    hash_key_secret = sm.create_secret(Name=f"hash-key-{suffix}", SecretString=json.dumps(
        {"hash_key": HASH_KEY}))["ARN"]
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    media_bucket, mail_bucket, export_bucket = f"media-{suffix}", f"mail-{suffix}", f"export-{suffix}"
    events_bucket = f"events-{suffix}"
    for bucket in (media_bucket, mail_bucket, export_bucket, events_bucket):
        s3.create_bucket(Bucket=bucket)
    globals_env = _resolve_props(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
                                 {"Ref": table_name})
    globals_env["TABLE_NAME"] = table_name
    globals_env["SLA_FIRST_RESPONSE_TARGETS"] = TEMPLATE["Parameters"]["SlaFirstResponseTargets"]["Default"]
    globals_env["SLA_DUE_SHARDS"] = str(TEMPLATE["Parameters"]["SlaDueShards"]["Default"])
    globals_env["DEFAULT_PHONE_REGION"] = "NL"        # the demo shop is Dutch: "06 12345678" is +31612345678
    env = {**{k: str(v) for k, v in globals_env.items()},
           "WORK_QUEUE_URL": work, "OUTBOUND_QUEUE_URL": outbound, "EVENT_BUS_NAME": bus,
           "TWILIO_SECRET_ARN": secret, "PUBLIC_BASE_URL": "https://desk.example.com",
           "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "STATUS_CALLBACK_BASE_URL": "https://desk.example.com",
           "AGENT_DEFAULT_CAPACITY": "3", "DISPATCH_MAX_ATTEMPTS": "3", "DISPATCH_BACKOFF_BASE_SECONDS": "1",
           "POWERTOOLS_LOG_LEVEL": "WARNING", "META_SECRET_ARN": meta_secret, "TELEGRAM_SECRET_ARN": telegram_secret,
           "WEBCHAT_SECRET_ARN": webchat_secret, "MEDIA_BUCKET": media_bucket, "MAIL_BUCKET": mail_bucket,
           "HASH_KEY_SECRET_ARN": hash_key_secret,
           "EVENTS_BUCKET": events_bucket, "ANALYTICS_ENGINE": "duckdb",
           "SES_FROM_ADDRESS": "support@shop.example", "WIDGET_ALLOWED_ORIGINS": "https://shop.example",
           "EMAIL_RECIPIENTS": TEMPLATE["Parameters"]["EmailRecipients"]["Default"],
           "META_GRAPH_BASE_URL": "http://127.0.0.1:9", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
           "MEDIA_TRUSTED_HOSTS": "127.0.0.1", "PRIVACY_QUEUE_URL": privacy, "EXPORT_BUCKET": export_bucket,
           "INGEST_RETRY_QUEUE_URL": ingest_retry,
           # the live inbox: nothing listens on port 9 (tests that need @connections or a JWKS override these)
           "LIVE_CONNECTIONS_ENDPOINT": "http://127.0.0.1:9/dev", "WIDGET_LIVE_URL": "wss://widget-live.invalid/dev",
           "TOKEN_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE01",
           "TOKEN_AUDIENCE": "4jb2example0client0id0abcd", "JWKS_URL": "http://127.0.0.1:9/jwks.json",
           "WHATSAPP_TEMPLATES": TEMPLATE["Parameters"]["WhatsAppTemplates"]["Default"]}
    # Automatic acknowledgements are a product default; these tests are about other things, so they
    # start with them off (tests/integration/test_acknowledgements.py turns them on).
    ddb.put_item(TableName=table_name, Item={"PK": {"S": "CONFIG#routing"}, "SK": {"S": "settings"},
                                             "acknowledgements": {"BOOL": False}, "version": {"N": "1"}})
    env["OUTBOUND_QUEUE_URL"] = outbound
    return Desk(moto_endpoint, table_name, work, outbound, bus, secret, env)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    from shopdesk import clock
    clock.set_offset(0)
    yield
    clock.set_offset(0)


Invoke = Callable[..., Any]
_ = sys
