"""What template.yaml promises about data at rest and the audit trail (docs/security.md points here)."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import shlex
import tomllib
from typing import Any

import pytest

from local.settings import Settings
from local.template import TemplateError, load_template, parameter_values
from tests.support import ROOT, template_refs

RESOURCES = load_template(ROOT / "template.yaml")["Resources"]


def _of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties") or {} for name, r in RESOURCES.items() if r["Type"] == kind}


def _names(value: Any) -> str:
    return repr(value)


def test_every_bucket_is_encrypted_private_and_reached_over_tls_only():
    policies = _of("AWS::S3::BucketPolicy")
    for name, bucket in _of("AWS::S3::Bucket").items():
        assert bucket.get("BucketEncryption"), f"{name} is not encrypted"
        block = bucket.get("PublicAccessBlockConfiguration") or {}
        assert all(block.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                                  "RestrictPublicBuckets")), f"{name} may become public"
        [policy] = [p for p in policies.values() if f"'{name}'" in _names(p["Bucket"])]
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in _names(s.get("Condition"))
                   for s in policy["PolicyDocument"]["Statement"]), f"{name} takes plain HTTP"


def test_exports_and_attachments_expire():
    rules = {name: [r.get("ExpirationInDays") for r in (b.get("LifecycleConfiguration") or {}).get("Rules", [])]
             for name, b in _of("AWS::S3::Bucket").items()}
    assert rules["ExportBucket"] == [1]
    assert rules["MediaBucket"] and rules["InboundMailBucket"]
    # every message's files expire (inbound copies, email, agents' and visitors' uploads), the shared library not
    prefixes = {r.get("Prefix") for r in _of("AWS::S3::Bucket")["MediaBucket"]["LifecycleConfiguration"]["Rules"]}
    assert prefixes == {"media/c_", "media/email/", "media/outbound/", "media/webchat/"}


def _statements(function: str) -> list[dict[str, Any]]:
    """A function's statements: its own, and those of the template's managed policies it names (``!Ref``)."""
    statements = []
    for policy in RESOURCES[function]["Properties"].get("Policies") or []:
        if isinstance(policy, dict) and "Ref" in policy:
            policy = RESOURCES[policy["Ref"]]["Properties"]["PolicyDocument"]
        if isinstance(policy, dict):
            statements += policy.get("Statement", [])
    return statements


def test_the_event_lake_expires_with_the_admins_events_retention_and_its_deletion_list_with_it():
    from shopdesk.dal.lake import RULES
    from shopdesk.privacy.settings import Retention

    rules = {r["Id"]: r for r in _of("AWS::S3::Bucket")["EventsBucket"]["LifecycleConfiguration"]["Rules"]}
    default = Retention().events_days
    # the rules the admin API rewrites exist from the first deploy, with the setting's default
    assert {name: (rules[name]["Prefix"], rules[name]["ExpirationInDays"]) for name in RULES} == {
        "events": ("events/", default), "errors": ("errors/", default), "erased": ("erased/", default)}
    assert rules["query-results"]["ExpirationInDays"] == 7
    # the Firehose stream writes where the rules expire
    [stream] = _of("AWS::KinesisFirehose::DeliveryStream").values()
    destination = stream["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"].startswith("events/") and destination["ErrorOutputPrefix"].startswith("errors/")
    # the admin API may rewrite the lifecycle, the privacy function write the deletion list, the reports read it
    assert any(set(s["Action"]) == {"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"}
               for s in _statements("AdminApiFunction"))
    assert any(s["Action"] == ["s3:PutObject"] and "erased/*" in _names(s["Resource"])
               for s in _statements("PrivacyFunction"))
    assert any("erased/*" in _names(s["Resource"]) for s in _statements("ReportsApiFunction"))
    table = _of("AWS::Glue::Table")["ErasedTable"]["TableInput"]
    assert table["Name"] == "erased" and "erased/" in _names(table["StorageDescriptor"]["Location"])
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "kind", "job_id"]


def _audit_writers() -> set[str]:
    """The functions whose code writes audit records: those that build an ``AuditLog``, and the SLA sweep, whose
    inactive customers' erase does (``shopdesk.privacy.inactive``)."""
    writers = set()
    for name, function in _of("AWS::Serverless::Function").items():
        code = (ROOT / function["CodeUri"] / "app.py").read_text(encoding="utf-8")
        if "AuditLog" in code or "shopdesk.privacy.inactive" in code:
            writers.add(name)
    return writers


def _denied_on_audit_keys(function: str) -> set[str]:
    return {action for s in _statements(function) if s["Effect"] == "Deny"
            and s["Resource"] == {"Fn::GetAtt": ["DeskTable", "Arn"]}
            and s.get("Condition") == {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}}
            for action in s["Action"]}


def test_no_function_may_change_or_delete_an_audit_record_and_only_those_that_write_them_may_put_one():
    functions = _of("AWS::Serverless::Function")
    writers = _audit_writers()
    assert writers == {"AgentApiFunction", "AdminApiFunction", "PrivacyFunction", "SlaSweepFunction",
                       "ReportsApiFunction", "WebchatFunction", "InboundShopifyFunction"}
    for name in functions:
        denied = _denied_on_audit_keys(name)
        assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= denied, name
        # a put replaces an item whole: only the writers may, and their code puts a record once (attribute_not_exists)
        assert ("dynamodb:PutItem" in denied) is (name not in writers), name
        # PartiQL writes: none is granted, and each is refused on the whole table (whatever its keys)
        partiql = {action for s in _statements(name) if s["Effect"] == "Deny" and "Condition" not in s
                   and s["Resource"] == {"Fn::GetAtt": ["DeskTable", "Arn"]} for action in s["Action"]}
        assert {"dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"} <= partiql, name
        assert not any(a.startswith("dynamodb:PartiQL") for s in _statements(name) if s["Effect"] == "Allow"
                       for a in s["Action"]), name


def test_the_reports_function_writes_only_refused_attempts_records_and_their_count():
    statements = [s for policy in RESOURCES["ReportsApiFunction"]["Properties"]["Policies"] if isinstance(policy, dict)
                  for s in policy.get("Statement", []) if s["Effect"] == "Allow"]
    writes = {action: s.get("Condition") for s in statements for action in s["Action"]
              if action.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "dynamodb:BatchWrite"))}
    assert writes == {"dynamodb:PutItem": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AUDIT#*"]}},
                      "dynamodb:UpdateItem": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DENIALS#*"]}}}


def test_the_agents_api_access_log_names_the_caller_and_why_the_authorizer_refused():
    # a refused attempt that never reached a function (the JWT authorizer's 401) has its ip and the authorizer's
    # error; one with a valid token names its sub (ID and access tokens) and username (access tokens)
    line = json.loads(RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]["Format"])
    assert {k: line[k] for k in ("ip", "sub", "username", "status", "authorizerError")} == {
        "ip": "$context.identity.sourceIp", "sub": "$context.authorizer.claims.sub",
        "username": "$context.authorizer.claims.username", "status": "$context.status",
        "authorizerError": "$context.authorizer.error"}


def test_every_queue_has_a_dead_letter_queue_and_the_privacy_one_an_alarm():
    queues = _of("AWS::SQS::Queue")
    dlqs = {n for n, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"
            and "ES6000" in _names(r.get("Metadata"))}
    for name, queue in queues.items():
        assert name in dlqs or queue.get("RedrivePolicy"), f"{name} has no dead-letter queue"
    assert "PrivacyDeadLetterQueue" in dlqs
    alarmed = " ".join(_names(a.get("Dimensions")) for a in _of("AWS::CloudWatch::Alarm").values())
    assert "PrivacyDeadLetterQueue" in alarmed


def test_the_widget_has_an_api_of_its_own_without_a_cors_configuration():
    # An HTTP API with a CorsConfiguration answers preflights itself and drops the function's CORS headers, and
    # its AllowOrigins take no subdomain wildcards: the shops' sites could not call the widget on the agents' API
    apis = _of("AWS::Serverless::HttpApi")
    assert "CorsConfiguration" not in apis["WidgetApi"] and "Auth" not in apis["WidgetApi"]
    assert apis["HttpApi"]["CorsConfiguration"]["AllowOrigins"]          # the inbox's origin, for the agents' API
    served = {(name, event["Properties"]["Path"]): event["Properties"]["ApiId"]["Ref"]
              for name, fn in _of("AWS::Serverless::Function").items()
              for event in (fn.get("Events") or {}).values() if event["Type"] == "HttpApi"}
    assert {path for (name, path), api in served.items() if api == "WidgetApi"} == {
        path for (name, path) in served if path.startswith("/widget/")}
    assert {name for (name, _), api in served.items() if api == "WidgetApi"} == {"WebchatFunction"}


def test_the_widgets_socket_keepalive_reaches_a_mock_integration_that_invokes_no_function():
    # The widget's only frame, {"action": "keepalive"}, matches no route key and goes to $default: API Gateway
    # answers it itself (MOCK, no route response), so it runs no code, reads nothing and sends nothing back
    routes = {r["RouteKey"]: r for r in _of("AWS::ApiGatewayV2::Route").values()
              if r["ApiId"] == {"Ref": "WidgetLiveApi"}}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    integration_of = {key: _names(r["Target"]).split("${")[1].split("}")[0] for key, r in routes.items()}
    mock = _of("AWS::ApiGatewayV2::Integration")[integration_of["$default"]]
    assert mock["ApiId"] == {"Ref": "WidgetLiveApi"} and mock["IntegrationType"] == "MOCK"
    assert "IntegrationUri" not in mock and "CredentialsArn" not in mock
    selected = mock["TemplateSelectionExpression"].replace("\\", "")
    assert json.loads(mock["RequestTemplates"][selected]) == {"statusCode": 200}   # a MOCK answers what it names
    assert "RouteResponseSelectionExpression" not in routes["$default"]
    assert not _of("AWS::ApiGatewayV2::RouteResponse") and not _of("AWS::ApiGatewayV2::IntegrationResponse")
    # the function is behind $connect and $disconnect only
    proxies = {integration_of[key] for key in ("$connect", "$disconnect")}
    assert integration_of["$default"] not in proxies
    assert all(_of("AWS::ApiGatewayV2::Integration")[name]["IntegrationType"] == "AWS_PROXY" for name in proxies)


def test_every_api_stage_is_throttled_and_the_widgets_socket_at_100_a_second_in_bursts_of_200():
    # what a client may send at most, before any function runs: API Gateway refuses the rest (429)
    stages = {name: r["Properties"] for name, r in RESOURCES.items()
              if r["Type"] in ("AWS::ApiGatewayV2::Stage", "AWS::Serverless::HttpApi")}
    assert "WidgetLiveStage" in stages
    limits = {name: (p.get("DefaultRouteSettings") or {}) for name, p in stages.items()}
    unthrottled = [name for name, s in limits.items()
                   if not s.get("ThrottlingRateLimit") or not s.get("ThrottlingBurstLimit")]
    assert unthrottled == []
    widget = limits["WidgetLiveStage"]
    assert (widget["ThrottlingRateLimit"], widget["ThrottlingBurstLimit"]) == (100, 200)


def test_every_secret_is_created_with_placeholders_or_generated_at_deploy():
    # the template holds no credential: what a secret is created with is a placeholder to replace, or generated
    secrets = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::SecretsManager::Secret"}
    assert secrets
    for name, props in secrets.items():
        if "GenerateSecretString" in props:
            assert "SecretString" not in props, name
            template = json.loads(props["GenerateSecretString"].get("SecretStringTemplate", "{}"))
            assert all(value in ("rotate-me", "replace-me", "") for value in template.values()), name
            continue
        values = json.loads(props["SecretString"]).values()
        assert all(v == "replace-me" or v == "" or set(v.lstrip("AC")) == {"0"} for v in values), (name, values)


def test_the_inbox_is_served_with_security_headers_and_a_policy_that_names_only_the_stacks_own_origins():
    from scripts.web_deploy import stack_policy

    [distribution] = _of("AWS::CloudFront::Distribution").values()
    config = distribution["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "WebHeadersPolicy"} for b in behaviours)
    headers = RESOURCES["WebHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"].startswith("frame-ancestors 'none'")
    assert headers["FrameOptions"]["FrameOption"] == "DENY" and headers["StrictTransportSecurity"]["Override"]
    # index.html's part, made by make deploy from the outputs: the stack's own origins, nothing inline, no wildcard
    outputs = {"ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
               "WebSocketUrl": "wss://ws9.execute-api.eu-west-1.amazonaws.com/prod",
               "InboxAuthDomain": "https://shopdesk-prod-1.auth.eu-west-1.amazoncognito.com",
               "MediaBucketName": "shopdesk-media-x"}
    assert set(outputs) <= set(load_template(ROOT / "template.yaml")["Outputs"])
    policy = stack_policy(outputs, "eu-west-1")
    directives = {name: sources for name, *sources in (d.split() for d in policy.split("; "))}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == [
        "'self'", "https://abc123.execute-api.eu-west-1.amazonaws.com", "wss://ws9.execute-api.eu-west-1.amazonaws.com",
        "https://shopdesk-prod-1.auth.eu-west-1.amazoncognito.com", "https://shopdesk-media-x.s3.amazonaws.com",
        "https://shopdesk-media-x.s3.eu-west-1.amazonaws.com"]
    assert directives["img-src"] == ["'self'", "data:", "https://shopdesk-media-x.s3.amazonaws.com",
                                     "https://shopdesk-media-x.s3.eu-west-1.amazonaws.com"]


def test_an_erased_customer_s_numbers_are_marked_as_long_as_a_kept_request_can_wait_and_both_ends_hold_the_key():
    from shopdesk.dal.erased import MARK_SECONDS

    queues = _of("AWS::SQS::Queue")
    # SQS's default retention (4 days) when the template sets none; a FIFO dead letter's starts again when moved
    kept = int(queues["IngestRetryQueue"].get("MessageRetentionPeriod", 345600))
    dead = int(queues["IngestRetryDeadLetterQueue"]["MessageRetentionPeriod"])
    assert kept + dead <= MARK_SECONDS
    # the erase that writes the marks and the replay that reads them key them with a key of their own; the web chat
    # names a one-time code's pointer from its address with it, which the erase of the address's customer finds
    for name in ("PrivacyFunction", "InboundTwilioFunction", "WebchatFunction"):
        variables = RESOURCES[name]["Properties"]["Environment"]["Variables"]
        assert "'HashKeySecret'" in _names(variables["HASH_KEY_SECRET_ARN"]), name
        assert any("secretsmanager:GetSecretValue" in s["Action"] and "'HashKeySecret'" in _names(s["Resource"])
                   for s in _statements(name)), name
    # generated at deploy, never a value in the template
    generate = _of("AWS::SecretsManager::Secret")["HashKeySecret"]
    assert "SecretString" not in generate and generate["GenerateSecretString"]["GenerateStringKey"] == "hash_key"


def test_only_the_web_chat_s_functions_can_read_the_key_that_signs_its_sessions():
    # a function that can read WebchatSecret can forge any visitor's session: the Twilio webhooks and the privacy
    # jobs do not need it (the marks of an erased customer's numbers have their own key, HashKeySecret)
    readers = {name for name, resource in RESOURCES.items() if "'WebchatSecret'" in _names(resource)}
    assert readers == {"WebchatFunction", "WidgetLiveFunction"}
    for name in readers:
        assert any("secretsmanager:GetSecretValue" in s["Action"] and "'WebchatSecret'" in _names(s["Resource"])
                   for s in _statements(name)), name


def test_only_the_twilio_function_may_send_to_the_ingest_retry_queue():
    # a replay does not check Twilio's signature again: what reaches the queue must be what the function checked.
    # Besides the function (its URL, its Send, its event source) only alarms and the dashboard name the queue
    naming = {name: r["Type"] for name, r in RESOURCES.items() if name != "IngestRetryQueue"
              and "'IngestRetryQueue'" in _names(r.get("Properties"))}
    assert {name for name, kind in naming.items() if not kind.startswith("AWS::CloudWatch::")} == {
        "InboundTwilioFunction"}
    senders = {name for name in _of("AWS::Serverless::Function") for s in _statements(name)
               if s["Effect"] == "Allow" and any(a.startswith("sqs:Send") or a in ("sqs:*", "*") for a in s["Action"])
               and ("'IngestRetryQueue'" in _names(s["Resource"]) or "*" in _names(s["Resource"]))}
    assert senders == {"InboundTwilioFunction"}
    assert not _of("AWS::SQS::QueuePolicy") or "'IngestRetryQueue'" not in _names(_of("AWS::SQS::QueuePolicy"))


def test_the_inbox_refuses_plugins_and_base_and_asks_for_two_years_of_https_nosniff_and_a_referrer_policy():
    from scripts.web_deploy import stack_policy

    headers = RESOURCES["WebHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    policy = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    header = {name: sources for name, *sources in (d.split() for d in policy.split("; "))}
    assert header["object-src"] == header["base-uri"] == header["frame-ancestors"] == ["'none'"]
    assert headers["ContentSecurityPolicy"]["Override"] is True
    # the page's part (index.html's <meta>, made from the outputs) refuses them too
    outputs = {"ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
               "WebSocketUrl": "wss://ws9.execute-api.eu-west-1.amazonaws.com/prod",
               "InboxAuthDomain": "https://shopdesk-prod-1.auth.eu-west-1.amazoncognito.com",
               "MediaBucketName": "shopdesk-media-x"}
    page = {name: sources for name, *sources in (d.split() for d in stack_policy(outputs, "eu-west-1").split("; "))}
    assert page["object-src"] == page["base-uri"] == ["'none'"]
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 2 * 365 * 86400 and hsts["Override"] is True
    assert headers["ContentTypeOptions"] == {"Override": True}                    # X-Content-Type-Options: nosniff
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}


def test_no_access_log_writes_a_request_s_query_string():
    # the widget's socket carries the visitor's session in its query, the agents' socket the token, searches the
    # words searched: every API's access log names the path ($context.path has no query) and never the query
    formats = {name: props["AccessLogSettings"]["Format"]
               for kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Api")
               for name, props in _of(kind).items() if props.get("AccessLogSettings")}
    assert set(formats) == {"HttpApi", "WidgetApi", "LiveStage", "WidgetLiveStage"}
    safe = {"requestId", "identity.sourceIp", "authorizer.claims.sub", "authorizer.claims.username", "httpMethod",
            "path", "status", "authorizer.error", "responseLatency", "integrationErrorMessage", "routeKey",
            "eventType", "connectionId"}
    for name, line in formats.items():
        fields = json.loads(line)
        variables = {value.removeprefix("$context.") for value in fields.values()}
        assert all(value.startswith("$context.") for value in fields.values()), name
        assert variables <= safe, (name, variables - safe)
        assert "query" not in line.lower() and "$request." not in line, name


def test_the_privacy_function_lists_three_prefixes_of_the_media_bucket_and_the_webhooks_delete_only_copied_files():
    def grants(action: str) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for name in _of("AWS::Serverless::Function"):
            for s in _statements(name):
                if s["Effect"] == "Allow" and any(a in (action, "s3:*", "*") for a in s["Action"]) \
                        and any(m in _names(s["Resource"]) for m in ("'MediaBucket'", "${MediaBucket.Arn}", "'*'")):
                    found.setdefault(name, []).append(s)
        return found

    # only the privacy function lists the media bucket, and only the uploads never sent and the files the router
    # copied for a conversation's messages (by prefix: an erase's last look at its conversations)
    listing = grants("s3:ListBucket")
    assert list(listing) == ["PrivacyFunction"]
    [statement] = listing["PrivacyFunction"]
    assert statement["Condition"] == {"StringLike": {"s3:prefix": ["media/outbound/*", "media/webchat/*",
                                                                   "media/c_*"]}}
    # the webhooks (an unsend) and the router delete only the files copied for a conversation's messages; the
    # privacy function (an erase) anything
    deleting = grants("s3:DeleteObject")
    assert set(deleting) == {"RouterFunction", "InboundMessengerFunction", "InboundInstagramFunction",
                             "InboundTelegramFunction", "PrivacyFunction"}
    for name in set(deleting) - {"PrivacyFunction"}:
        assert [s["Resource"] for s in deleting[name]] == [{"Fn::Sub": "${MediaBucket.Arn}/media/c_*"}], name


def test_only_the_privacy_function_scans_the_table_for_the_masking_job_and_no_index():
    # the masking job reads every item that holds what customers wrote (a Scan of the table: they are on no one
    # index, privacy/remask.py); no request path scans
    scans = ("dynamodb:Scan", "dynamodb:*", "*")
    scanning = {name: [s["Resource"] for s in _statements(name)
                       if s["Effect"] == "Allow" and any(a in scans for a in s["Action"])]
                for name in _of("AWS::Serverless::Function")}
    assert {name: found for name, found in scanning.items() if found} == {
        "PrivacyFunction": [{"Fn::GetAtt": ["DeskTable", "Arn"]}]}


# ------------------------------------------------------------------------------ what AWS services publish to

def _logical_ids(value: Any) -> set[str]:
    """The resources a value names (Ref, GetAtt, ${Name} and ${Name.Attr} in a Sub string)."""
    return {name for name in template_refs(value) if name in RESOURCES}


def _deliveries() -> dict[tuple[str, str], set[str]]:
    """(service principal, topic or queue) -> the resources on whose behalf the service sends there itself, calling
    KMS as itself (not through a function's role): alarm actions (CloudWatch), the configuration set's events and a
    receipt rule's SNS action (SES), a subscription's dead-letter queue and its queue (SNS), bucket notifications
    (S3), event rules' targets and dead-letter queues (EventBridge). Lambda's destinations and Scheduler's
    dead-letter queues send through the function's or the schedule's role, as a function's own publish does."""
    found: dict[tuple[str, str], set[str]] = {}

    def add(principal: str, value: Any, source: str) -> None:
        for target in _logical_ids(value):
            if RESOURCES[target]["Type"] in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
                found.setdefault((principal, target), set()).add(source)

    for name, resource in RESOURCES.items():
        props, kind = resource.get("Properties") or {}, resource["Type"]
        if kind == "AWS::CloudWatch::Alarm":
            for actions in ("AlarmActions", "OKActions", "InsufficientDataActions"):
                add("cloudwatch.amazonaws.com", props.get(actions), name)
        elif kind == "AWS::SES::ConfigurationSetEventDestination":
            add("ses.amazonaws.com", (props["EventDestination"].get("SnsDestination") or {}).get("TopicARN"), name)
        elif kind == "AWS::SES::ReceiptRule":
            add("ses.amazonaws.com", [a.get("SNSAction") for a in props["Rule"].get("Actions") or []], name)
        elif kind == "AWS::SNS::Subscription":
            add("sns.amazonaws.com", props.get("RedrivePolicy"), name)
            if props.get("Protocol") == "sqs":
                add("sns.amazonaws.com", props.get("Endpoint"), name)
        elif kind == "AWS::S3::Bucket":
            add("s3.amazonaws.com", props.get("NotificationConfiguration"), name)
        elif kind == "AWS::Events::Rule":
            add("events.amazonaws.com", props.get("Targets"), name)
        elif kind == "AWS::Serverless::Function":
            for event in (props.get("Events") or {}).values():
                if event["Type"] in ("Schedule", "EventBridgeRule"):
                    add("events.amazonaws.com", event["Properties"].get("DeadLetterConfig"), name)
    return found


def _key_statements(target: str, principal: str) -> tuple[str, list[dict[str, Any]]]:
    """The template's key that encrypts ``target`` and its policy's statements that let ``principal`` use it
    (kms:GenerateDataKey* and kms:Decrypt, what SNS and SQS ask KMS for on the publisher's behalf)."""
    key = (RESOURCES[target].get("Properties") or {}).get("KmsMasterKeyId")
    assert isinstance(key, dict), f"{target} is encrypted with {key!r}, whose policy nobody can change"
    [key_id] = _logical_ids(key)
    if RESOURCES[key_id]["Type"] == "AWS::KMS::Alias":
        [key_id] = _logical_ids(RESOURCES[key_id]["Properties"]["TargetKeyId"])
    assert RESOURCES[key_id]["Type"] == "AWS::KMS::Key"
    granting = []
    for statement in RESOURCES[key_id]["Properties"]["KeyPolicy"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        services = (statement.get("Principal") or {}).get("Service")
        if statement["Effect"] == "Allow" and principal in (services if isinstance(services, list) else [services]) \
                and {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(actions):
            granting.append(statement)
    return key_id, granting


def test_every_topic_and_queue_an_aws_service_publishes_to_uses_a_key_that_lets_that_service_encrypt():
    # An AWS-managed key (alias/aws/sns, alias/aws/sqs) lets only principals of the account use it through the
    # service; its policy cannot be changed, so CloudWatch, SES, SNS, S3 or EventBridge publishing to a topic or
    # queue it encrypts is refused by KMS: the alarm goes to ALARM and nobody is paged. SSE-SQS asks nothing of KMS.
    deliveries = _deliveries()
    assert {("cloudwatch.amazonaws.com", "OperationsAlertTopic"), ("ses.amazonaws.com", "EmailEventsTopic"),
            ("sns.amazonaws.com", "EmailEventsDeadLetterQueue")} <= set(deliveries)
    refused = []
    for principal, target in sorted(deliveries):
        props = RESOURCES[target].get("Properties") or {}
        if props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" not in props:
            continue
        key = props["KmsMasterKeyId"]
        if not isinstance(key, dict) or not _key_statements(target, principal)[1]:
            refused.append(f"{principal} -> {target} ({_names(key)})")
    assert refused == [], f"KMS refuses these publishers: {refused}"


def _sub(value: Any) -> str:
    return value["Fn::Sub"] if isinstance(value, dict) else value


def test_the_services_may_use_the_key_only_for_this_stacks_alarms_and_configuration_set_and_their_own_topic():
    # aws:SourceAccount and aws:SourceArn keep another account's alarms or configuration sets from using the key
    # through CloudWatch or SES (the confused deputy), and the topic's ARN in the encryption context keeps each to
    # its topic (any alarm of this account: an operator's own too); a configuration set the pattern does not match
    # would be refused as before
    arns = {"AWS::CloudWatch::Alarm": ("cloudwatch", "alarm:", "AlarmName"),
            "AWS::SES::ConfigurationSetEventDestination": ("ses", "configuration-set/", "ConfigurationSetName")}
    checked = set()
    for (principal, target), sources in _deliveries().items():
        if RESOURCES[target]["Type"] != "AWS::SNS::Topic" or "KmsMasterKeyId" not in RESOURCES[target]["Properties"]:
            continue
        key_id, statements = _key_statements(target, principal)
        assert RESOURCES[key_id]["Properties"]["EnableKeyRotation"] is True
        assert any(_logical_ids(a["TargetKeyId"]) == {key_id} for a in _of("AWS::KMS::Alias").values())
        assert len(statements) == 1, f"{key_id}: {len(statements)} statements let {principal} use it for {target}"
        condition = statements[0]["Condition"]
        assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
        topic = _sub(RESOURCES[target]["Properties"]["TopicName"])
        assert _sub(condition["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]) == \
            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + topic, f"{principal} not kept to {target}"
        pattern = _sub(condition["ArnLike"]["aws:SourceArn"])
        for source in sources:
            service, kind, field = arns[RESOURCES[source]["Type"]]
            name = RESOURCES[source]["Properties"][field]
            if isinstance(name, dict) and "Ref" in name:   # the configuration set's own name
                name = RESOURCES[name["Ref"]]["Properties"]["Name"]
            arn = f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{kind}{_sub(name)}"
            assert fnmatch.fnmatchcase(arn, pattern), f"{source} ({arn}) is not in {pattern}"
            checked.add(source)
    assert {"EmailEventDestination", "WorkDeadLetterAlarm", "BotHandoffsAlarm"} <= checked


def test_an_operators_own_alarm_on_the_operations_topic_may_use_its_key_and_another_accounts_may_not():
    # README tells operators to subscribe the on-call to the operations topic; an alarm of theirs (any name) that
    # notifies it must not be refused by the topic's key, silently, as this stack's were before their statement
    [statement] = [s for s in RESOURCES["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
                   if s["Sid"] == "AlarmsPublishToTheOperationsTopic"]
    pattern = _sub(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    here = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    assert fnmatch.fnmatchcase(here + "checkout-latency", pattern), pattern
    assert fnmatch.fnmatchcase(here + "shopdesk-prod-WorkDeadLetter", pattern), pattern
    assert not fnmatch.fnmatchcase("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:111122223333:alarm:x", pattern)
    # still this account's only, and only to the operations topic
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert _sub(statement["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]).endswith(
        ":shopdesk-${Stage}-operations")


def _http_routes() -> list[tuple[str, str, str, str | None]]:
    """(API, method, path, the route's own authorizer) of every HTTP API route the functions declare."""
    return [(e["Properties"]["ApiId"]["Ref"], e["Properties"]["Method"], e["Properties"]["Path"],
             (e["Properties"].get("Auth") or {}).get("Authorizer"))
            for function in _of("AWS::Serverless::Function").values()
            for e in (function.get("Events") or {}).values() if e["Type"] == "HttpApi"]


def _socket_routes() -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["ApiId"]["Ref"], r["RouteKey"]): r for r in _of("AWS::ApiGatewayV2::Route").values()}


def test_an_agent_cannot_change_their_own_name_or_email_in_the_user_pool():
    # Cognito lets a signed-in user change the attributes their app client may write (UpdateUserAttributes, with the
    # access token an SRP sign-in gives), every standard one unless WriteAttributes narrows it: the desk names an agent
    # by the name and the verified email their token carries, so they are not theirs to set (an admin sets them)
    client = RESOURCES["AgentUserPoolClient"]["Properties"]
    writable = client.get("WriteAttributes")
    assert writable, "no WriteAttributes: every standard attribute is the user's to write"
    assert not {"name", "email", "email_verified", "preferred_username", "nickname"} & set(writable)


def test_only_the_webhooks_the_widget_and_the_api_documents_are_reached_without_an_agents_token():
    # the agents' HTTP API checks the pool's JWT on every route by default: a route opts out (Authorizer NONE) only
    # for a provider's webhook (its signature is checked) or a public OpenAPI document and its Swagger page
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    assert auth.get("DefaultAuthorizer") == "AgentJwt"
    jwt = auth["Authorizers"]["AgentJwt"]
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    assert jwt["JwtConfiguration"] == {
        "issuer": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${AgentUserPool}"},
        "audience": [{"Ref": "AgentUserPoolClient"}]}
    documents = {f"/{api}/{page}" for api in ("agent", "admin", "reports") for page in ("openapi.json", "swagger")}
    routes = _http_routes()
    assert {api for api, *_ in routes} == {"HttpApi", "WidgetApi"}
    for api, method, path, authorizer in routes:
        if api == "WidgetApi":       # the widget's own API: its function checks the origin and the visitor's tokens
            assert path.startswith("/widget/") and authorizer is None, f"{method} {path}"
        elif authorizer is None:
            assert path.startswith(("/agent/", "/admin/", "/reports/")), f"{method} {path}"
        else:
            assert authorizer == "NONE" and (path.startswith("/webhooks/") or path in documents), \
                f"{method} {path} is reached without a token"
    assert {path for _, _, path, authorizer in routes if authorizer == "NONE"} >= documents
    # the agents' socket: $connect goes through the authorizer function, which checks the same pool and client
    connect = _socket_routes()[("LiveApi", "$connect")]
    assert (connect["AuthorizationType"], connect["AuthorizerId"]) == ("CUSTOM", {"Ref": "LiveAuthorizer"})
    authorizer = RESOURCES["LiveAuthorizer"]["Properties"]
    assert authorizer["ApiId"] == {"Ref": "LiveApi"} and authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]
    assert "${LiveAuthorizerFunction.Arn}" in authorizer["AuthorizerUri"]["Fn::Sub"]
    env = RESOURCES["LiveAuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TOKEN_ISSUER"] == jwt["JwtConfiguration"]["issuer"]
    assert [env["TOKEN_AUDIENCE"]] == jwt["JwtConfiguration"]["audience"]


def _routes_with_keys() -> list[tuple[str, str, str, str | None]]:
    """Every route of every API: the HTTP APIs' and the WebSocket APIs' route keys."""
    return _http_routes() + [(api, "", key, r.get("AuthorizationType")) for (api, key), r in _socket_routes().items()]


def test_the_local_stacks_own_routes_and_code_are_never_deployed():
    # the local gateway answers /_local/... (a token for any agent, the desk's clock, the outbox, fault injection)
    # itself; the template names no such route, and nothing it deploys is or imports the local stack
    paths = [path for _, _, path, _ in _routes_with_keys()]
    assert paths and not [p for p in paths if "_local" in p]
    code = [f["CodeUri"] for f in _of("AWS::Serverless::Function").values()] + \
           [layer["ContentUri"] for layer in _of("AWS::Serverless::LayerVersion").values()]
    assert all(c.startswith(("functions/", "layers/")) for c in code), code
    importing = [str(path.relative_to(ROOT)) for folder in code for path in (ROOT / folder).rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+local\b", path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert importing == []



def _allowed(function: str) -> list[dict[str, Any]]:
    """A function's Allow statements, those of a conditional policy (``!If``: either branch) included."""
    def walk(policy: Any) -> list[dict[str, Any]]:
        if isinstance(policy, dict) and "Fn::If" in policy:
            return [s for branch in policy["Fn::If"][1:] for s in walk(branch)]
        if isinstance(policy, dict) and "Ref" in policy:
            document = None if policy["Ref"] == "AWS::NoValue" else RESOURCES[policy["Ref"]]["Properties"]
            return [] if document is None else walk(document["PolicyDocument"])
        assert isinstance(policy, dict) and "Statement" in policy, f"{function}: {policy!r} is no policy document"
        return policy["Statement"]
    policies = RESOURCES[function]["Properties"].get("Policies") or []
    return [s for p in policies for s in walk(p) if s["Effect"] == "Allow"]


_DDB_READ = {"dynamodb:GetItem", "dynamodb:Query"}
_DDB_WRITE = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
_ATHENA = {"athena:GetQueryExecution", "athena:GetQueryResults", "athena:StartQueryExecution",
           "athena:StopQueryExecution", "glue:GetDatabase", "glue:GetPartitions", "glue:GetTable",
           "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}
_WEBHOOK = _DDB_READ | _DDB_WRITE | {"dynamodb:DeleteItem", "secretsmanager:GetSecretValue", "sqs:SendMessage"}
# What each function may do, and which of the stack's secrets it may read: a permission a function is given is added
# here on purpose, or this fails
PERMISSIONS: dict[str, tuple[set[str], set[str]]] = {
    "InboundTwilioFunction": (_WEBHOOK | {"sqs:ChangeMessageVisibility"}, {"TwilioSecret", "HashKeySecret"}),
    "InboundWhatsAppFunction": (_WEBHOOK, {"MetaSecret"}),
    "InboundMessengerFunction": (_WEBHOOK | {"s3:DeleteObject"}, {"MetaSecret"}),
    "InboundInstagramFunction": (_WEBHOOK | {"s3:DeleteObject"}, {"MetaSecret"}),
    "InboundTelegramFunction": (_WEBHOOK | {"s3:DeleteObject"}, {"TelegramSecret"}),
    "InboundEmailFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "s3:DeleteObject", "s3:GetObject",
                                                        "s3:PutObject", "sqs:SendMessage"}, set()),
    "InboundShopifyFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                                                          "secretsmanager:GetSecretValue", "sqs:SendMessage"},
                               {"ShopifySecret"}),
    "InboundWooCommerceFunction": ({"dynamodb:GetItem"} | _DDB_WRITE | {"dynamodb:BatchGetItem",
                                                                        "secretsmanager:GetSecretValue"},
                                   {"WooCommerceSecret"}),
    "WebchatFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "s3:GetObject", "s3:PutObject",
                                                  "secretsmanager:GetSecretValue", "ses:SendEmail", "sqs:SendMessage"},
                        {"WebchatSecret", "HashKeySecret"}),
    "WidgetLiveFunction": ({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem",
                            "secretsmanager:GetSecretValue"}, {"WebchatSecret"}),
    "RouterFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "bedrock:InvokeModel",
                                                 "comprehend:DetectSentiment", "events:PutEvents", "s3:DeleteObject",
                                                 "s3:PutObject", "secretsmanager:GetSecretValue", "sqs:SendMessage"},
                       {"TwilioSecret", "MetaSecret", "TelegramSecret", "ShopifySecret", "WooCommerceSecret"}),
    "DispatcherFunction": ({"dynamodb:GetItem", "dynamodb:UpdateItem", "s3:GetObject", "secretsmanager:GetSecretValue",
                            "ses:SendEmail", "ses:SendRawEmail", "sqs:ChangeMessageVisibility", "sqs:SendMessage"},
                           {"TwilioSecret", "MetaSecret", "TelegramSecret"}),
    "AgentApiFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "aoss:APIAccessAll",
                                                   "bedrock:InvokeModel", "s3:GetObject", "s3:PutObject",
                                                   "secretsmanager:GetSecretValue", "ses:SendEmail", "sqs:SendMessage"},
                         {"ShopifySecret", "WooCommerceSecret"}),
    "AdminApiFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchWriteItem", "dynamodb:DeleteItem",
                                                   "bedrock:InvokeModel", "execute-api:ManageConnections",
                                                   "s3:GetLifecycleConfiguration", "s3:GetObject",
                                                   "s3:PutLifecycleConfiguration", "sqs:SendMessage"}, set()),
    "ReportsApiFunction": (_ATHENA | _DDB_READ | {"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
                           set()),
    "PrivacyFunction": (_ATHENA | _DDB_READ | {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem",
                                               "dynamodb:Scan", "dynamodb:UpdateItem", "s3:DeleteObject",
                                               "execute-api:ManageConnections", "secretsmanager:GetSecretValue",
                                               "sqs:SendMessage"}, {"HashKeySecret"}),
    "SlaSweepFunction": (_DDB_READ | _DDB_WRITE | {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                                                   "dynamodb:DeleteItem", "events:PutEvents",
                                                   "execute-api:ManageConnections", "sns:Publish", "sqs:SendMessage"},
                         set()),
    "LiveAuthorizerFunction": (set(), set()),
    "LiveConnectionsFunction": ({"dynamodb:BatchWriteItem", "dynamodb:GetItem", "execute-api:ManageConnections"},
                                set()),
    "LiveFanoutFunction": ({"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query",
                            "execute-api:ManageConnections", "sqs:SendMessage"}, set()),
    "LabelIndexerFunction": ({"dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"}, set()),
    "AnalyticsWriterFunction": ({"firehose:PutRecordBatch", "sqs:SendMessage"}, set()),
    "SearchIndexerFunction": ({"aoss:APIAccessAll", "sqs:SendMessage"}, set()),
}


def test_each_function_may_do_only_what_its_row_lists_on_named_resources():
    functions = _of("AWS::Serverless::Function")
    assert set(functions) == set(PERMISSIONS)
    secrets = set(_of("AWS::SecretsManager::Secret"))
    for name, function in functions.items():
        assert "Role" not in function, f"{name} has a role of its own: its Policies are not all it may do"
        statements = _allowed(name)
        actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert not [a for a in actions if "*" in a], f"{name} is allowed a wildcard action"
        assert actions == PERMISSIONS[name][0], f"{name}: {sorted(actions ^ PERMISSIONS[name][0])}"
        assert {s for s in secrets if f"'{s}'" in _names(statements)} == PERMISSIONS[name][1], name
        for s in statements:
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            kinds = {a.split(":")[0] for a in s["Action"]}
            if "*" in resources:          # only what IAM cannot scope to a resource, and mail from the shop's addresses
                assert set(s["Action"]) == {"comprehend:DetectSentiment"} or (
                    kinds == {"ses"} and "'ses:FromAddress'" in _names(s.get("Condition"))), f"{name}: {s}"
            if kinds & {"dynamodb"}:       # the desk's table, its indexes and its stream only
                assert kinds == {"dynamodb"}, f"{name}: {s}"
                assert all(template_refs(r) == {"DeskTable"} for r in resources), f"{name}: {s}"
            if kinds & {"secretsmanager"}:
                assert all(isinstance(r, dict) and r.get("Ref") in secrets for r in resources), f"{name}: {s}"


def test_the_email_function_reads_what_sns_signed_for_the_stacks_email_events_topic_only():
    # SNS signs whatever anyone publishes to a topic of their own: the signature proves SNS sent it, the topic whose
    # it is. The function is given the one topic SES publishes the configuration set's events to, and subscribed to
    # (without it the function would read what any topic sent: shopdesk.logic.email_inbound)
    env = RESOURCES["InboundEmailFunction"]["Properties"]["Environment"]["Variables"]
    assert env["EMAIL_EVENTS_TOPIC_ARN"] == {"Ref": "EmailEventsTopic"}
    [destination] = _of("AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["EventDestination"]["SnsDestination"]["TopicARN"] == {"Ref": "EmailEventsTopic"}
    subscriptions = [s for s in _of("AWS::SNS::Subscription").values() if s["Protocol"].startswith("http")]
    assert [s["TopicArn"] for s in subscriptions] == [{"Ref": "EmailEventsTopic"}]
    assert "/webhooks/email/sns" in _names(subscriptions[0]["Endpoint"])


def test_only_ses_of_this_account_and_the_email_function_write_the_mail_the_email_function_reads():
    # the email function reads a stored mail's topmost Authentication-Results as SES's verdict (docs/security.md,
    # section 1): only SES, for this account, may put mail there, and of the functions only the email function, which
    # writes it again masked
    [policy] = [p["PolicyDocument"] for p in _of("AWS::S3::BucketPolicy").values()
                if p["Bucket"] == {"Ref": "InboundMailBucket"}]
    assert [s for s in policy["Statement"] if s["Effect"] == "Allow"] == [{
        "Sid": "AllowSesToStoreReceivedMail", "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": {"Fn::Sub": "${InboundMailBucket.Arn}/raw/*"},
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]
    name = RESOURCES["InboundMailBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    writers = {function for function in _of("AWS::Serverless::Function") for s in _allowed(function)
               if {"s3:PutObject", "s3:*", "*"} & set(s["Action"])
               and any("InboundMailBucket" in template_refs(r) or name in _names(r) or r == "*"
                       for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]))}
    assert writers == {"InboundEmailFunction"}
    [rule] = _of("AWS::SES::ReceiptRule").values()
    assert [a["S3Action"]["BucketName"] for a in rule["Rule"]["Actions"] if "S3Action" in a] == [
        {"Ref": "InboundMailBucket"}]


def test_the_search_index_is_written_by_the_indexer_alone_and_read_by_the_agent_api():
    # the collection's data access policy is the only way in (every request SigV4-signed, its role checked against
    # it): the agent API searches, and may create a missing index as its first search does, but writes no document
    # (a compromised agent API could otherwise delete what search finds)
    template, names = RESOURCES["SearchAccessPolicy"]["Properties"]["Policy"]["Fn::Sub"]
    document = json.loads(re.sub(r"\$\{(\w+)\}", r"<\1>", template))
    granted = {principal: (rule["ResourceType"], tuple(rule["Resource"]), frozenset(rule["Permission"]))
               for policy in document for principal in policy["Principal"] for rule in policy["Rules"]}
    assert len(granted) == sum(len(p["Principal"]) * len(p["Rules"]) for p in document)   # one rule a principal
    index = ("index", ("index/shopdesk-<Stage>/*",))
    assert granted == {
        "<IndexerRole>": (*index, frozenset({"aoss:CreateIndex", "aoss:DescribeIndex", "aoss:ReadDocument",
                                             "aoss:WriteDocument"})),
        "<ApiRole>": (*index, frozenset({"aoss:CreateIndex", "aoss:DescribeIndex", "aoss:ReadDocument"}))}
    assert names == {"IndexerRole": {"Fn::GetAtt": ["SearchIndexerFunctionRole", "Arn"]},
                     "ApiRole": {"Fn::GetAtt": ["AgentApiFunctionRole", "Arn"]}}


def test_the_table_every_queue_and_topic_the_stream_and_the_search_collection_are_encrypted_as_documented():
    # docs/security.md, section 7 ("Encryption at rest"): the keys each store is encrypted with
    assert RESOURCES["DeskTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    algorithms = {name: b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                  ["SSEAlgorithm"] for name, b in _of("AWS::S3::Bucket").items()}
    assert algorithms == {"MediaBucket": "aws:kms", "ExportBucket": "aws:kms", "InboundMailBucket": "AES256",
                          "WebBucket": "AES256", "EventsBucket": "AES256"}
    queues = _of("AWS::SQS::Queue")
    assert queues and all(q.get("SqsManagedSseEnabled") is True for q in queues.values())
    topics = _of("AWS::SNS::Topic")
    assert {name: t.get("KmsMasterKeyId") for name, t in topics.items()} == {
        "EmailEventsTopic": {"Ref": "NotificationsKey"}, "OperationsAlertTopic": {"Ref": "NotificationsKey"},
        "SlaAlertTopic": "alias/aws/sns"}
    [stream] = _of("AWS::KinesisFirehose::DeliveryStream").values()
    assert stream["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
    policy = RESOURCES["SearchEncryptionPolicy"]["Properties"]
    assert policy["Type"] == "encryption" and json.loads(
        re.sub(r"\$\{(\w+)\}", r"<\1>", policy["Policy"]["Fn::Sub"]))["AWSOwnedKey"] is True
    assert "SearchEncryptionPolicy" in RESOURCES["SearchCollection"]["DependsOn"]


def test_the_notifications_key_lets_in_the_account_cloudwatch_and_ses_alone_and_no_function_publishes_with_it():
    # docs/security.md, section 7: the account administers the key, CloudWatch and SES use it (their conditions:
    # the tests above), nobody else; no function publishes to its topics (the sweep publishes to the SLA topic only)
    statements = RESOURCES["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert [s["Principal"] for s in statements] == [
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        {"Service": "cloudwatch.amazonaws.com"}, {"Service": "ses.amazonaws.com"}]
    published = {(function, topic) for function in _of("AWS::Serverless::Function") for s in _allowed(function)
                 if any(a.startswith("sns:") for a in s["Action"])
                 for topic in template_refs(s["Resource"]) - {"AWS"}}
    assert published == {("SlaSweepFunction", "SlaAlertTopic")}


def test_only_an_admin_creates_an_agents_account_and_its_tokens_live_an_hour_for_the_inbox_alone():
    # a token of the pool is the agents' APIs' and socket's only key (docs/security.md, section 2): nobody signs
    # themselves up (the admission lets in a caller with no agent record yet), the one app client is the inbox's
    # public client (code with PKCE through the hosted UI, SRP, no password sent), and its tokens live an hour
    pool = RESOURCES["AgentUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    [client] = _of("AWS::Cognito::UserPoolClient").values()
    assert client["UserPoolId"] == {"Ref": "AgentUserPool"} and client["GenerateSecret"] is False
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["SupportedIdentityProviders"] == ["COGNITO"]
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (1, 1)
    assert client["TokenValidityUnits"] == {"AccessToken": "hours", "IdToken": "hours"}
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert len(client["CallbackURLs"]) == 1 and client["CallbackURLs"] == client["LogoutURLs"]


def test_no_function_is_invoked_but_through_the_stacks_apis_and_event_sources():
    # a function URL, or a permission letting any principal invoke a function, would reach it past every check of
    # the gateway (the JWT authorizer, the socket's $connect): there is none; the permissions the template writes
    # itself are API Gateway's, each for one of this stack's WebSocket APIs
    assert not [name for name, f in _of("AWS::Serverless::Function").items() if "FunctionUrlConfig" in f]
    assert not _of("AWS::Lambda::Url")
    for name, permission in _of("AWS::Lambda::Permission").items():
        assert permission["Principal"] == "apigateway.amazonaws.com", name
        arn = permission["SourceArn"]["Fn::Sub"]
        here = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
        assert arn.startswith((here + "${LiveApi}/", here + "${WidgetLiveApi}/")), name
        assert template_refs(permission["SourceArn"]) - {"AWS", "Stage"} <= {"LiveApi", "WidgetLiveApi",
                                                                             "LiveAuthorizer"}, name


def test_no_credential_is_in_a_functions_environment_only_the_arn_of_the_secret_that_holds_it():
    # docs/security.md, section 10: credentials live in Secrets Manager; a function's environment (which the
    # console and GetFunctionConfiguration show) names each secret by its ARN, and holds no credential, nor a
    # template parameter that could carry one
    secrets = set(_of("AWS::SecretsManager::Secret"))
    parameters = set(load_template(ROOT / "template.yaml").get("Parameters") or {})
    credential = re.compile(r"SECRET|TOKEN|PASSWORD|PRIVATE|CREDENTIAL|API_KEY|AUTH")
    for name, function in _of("AWS::Serverless::Function").items():
        for key, value in ((function.get("Environment") or {}).get("Variables") or {}).items():
            if key.endswith("_SECRET_ARN"):
                assert isinstance(value, dict) and value.get("Ref") in secrets, f"{name} {key}"
            elif credential.search(key):
                assert key in {"TOKEN_ISSUER", "TOKEN_AUDIENCE"}, f"{name} {key}"
            assert not any(p.lower().endswith(("secret", "token", "password")) for p in template_refs(value)
                           & parameters), f"{name} {key}"
            assert "{{resolve:" not in _names(value), f"{name} {key}"


def test_every_resource_policy_lets_in_only_an_aws_service_acting_for_this_stack():
    # a bucket, queue or topic policy is a way in that no function's role limits: each Allow names one AWS service
    # and a condition that keeps it to this account or one of this stack's resources; anyone else is denied only
    kinds = {"AWS::S3::BucketPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
             "AWS::SNS::TopicPolicy": "PolicyDocument"}
    allowed = []
    for kind, field in kinds.items():
        for name, policy in _of(kind).items():
            for s in policy[field]["Statement"]:
                if s["Effect"] == "Deny":
                    continue
                principal = s["Principal"]
                assert isinstance(principal, dict) and set(principal) == {"Service"}, f"{name}: {principal}"
                assert isinstance(principal["Service"], str) and principal["Service"].endswith(".amazonaws.com")
                tied = {k for condition in (s.get("Condition") or {}).values() for k in condition}
                assert tied & {"aws:SourceAccount", "aws:SourceArn", "AWS:SourceArn"}, f"{name}: {s.get('Sid')}"
                allowed.append((name, principal["Service"]))
    assert sorted(allowed) == [("EmailEventsDeadLetterQueuePolicy", "sns.amazonaws.com"),
                               ("InboundMailBucketPolicy", "ses.amazonaws.com"),
                               ("WebBucketPolicy", "cloudfront.amazonaws.com")]


def test_the_inbox_is_served_over_https_only_from_its_private_bucket_through_cloudfronts_signed_reads():
    # the HSTS header (above) holds from the first HTTPS answer: before it, a plain-HTTP request is redirected, never
    # answered; the bucket is read only by the distribution, which signs every read (origin access control)
    [distribution] = _of("AWS::CloudFront::Distribution").values()
    config = distribution["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} == {"redirect-to-https"}
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    control = RESOURCES["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (control["SigningBehavior"], control["SigningProtocol"]) == ("always", "sigv4")


def test_no_function_logs_the_event_it_is_given():
    # Powertools' inject_lambda_context logs the whole event (a message's words, a widget session in a socket's
    # query, a Twilio form) when asked, by log_event=True or by POWERTOOLS_LOGGER_LOG_EVENT in the environment: the
    # scrubber hides addresses and tokens, not what customers wrote (docs/security.md, section 7: logs carry none)
    environments = [load_template(ROOT / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]] + [
        (f.get("Environment") or {}).get("Variables") or {} for f in _of("AWS::Serverless::Function").values()]
    assert not [e for e in environments if "POWERTOOLS_LOGGER_LOG_EVENT" in e]
    sources = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "shopdesk" / "shopdesk").rglob("*.py")]
    assert len(sources) > 20
    assert [str(p.relative_to(ROOT)) for p in sources
            if re.search(r"log_event\s*=\s*True", p.read_text(encoding="utf-8"))] == []


def test_the_agents_api_answers_the_inbox_s_origin_alone_and_takes_no_cookies():
    # the agents' token goes in a header the inbox's script sets: CORS lets that one origin read the answers, and
    # no credentials mode (cookies) is allowed, so no other page can call the API as a signed-in agent
    cors = _of("AWS::Serverless::HttpApi")["HttpApi"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::If": ["HasInboxUrl", {"Ref": "InboxUrl"},
                                                {"Fn::Sub": "https://${WebDistribution.DomainName}"}]}]
    assert not cors.get("AllowCredentials") and "*" not in _names(cors)
    # and the headers it sends: the token, JSON, and a reply's Idempotency-Key (without it the browser's preflight
    # refuses every reply the inbox sends)
    assert set(cors["AllowHeaders"]) == {"authorization", "content-type", "idempotency-key"}


def test_a_deploy_that_names_no_widget_origin_fails_and_only_the_dev_config_names_the_local_one():
    # docs/security.md section 5: no parameter defaults to a local origin, so a deploy that forgets the shop's
    # origins fails (CloudFormation refuses a parameter with no value) instead of letting a localhost page use
    # the widget in production
    template = load_template(ROOT / "template.yaml")
    declared = template["Parameters"]
    assert "Default" not in declared["WidgetAllowedOrigins"]
    local = re.compile(r"localhost|127\.0\.0\.1|\[::1\]")
    assert [name for name, p in declared.items() if local.search(str(p.get("Default", "")))] == []
    configs = tomllib.loads((ROOT / "samconfig.toml").read_text())

    def overrides(env: str) -> dict[str, str]:
        given = configs[env]["deploy"]["parameters"]["parameter_overrides"]
        return dict(o.split("=", 1) for o in shlex.split(given))
    # samconfig's dev config names the local origin, prod none: its deploy fails until the shop names its own
    assert overrides("default")["WidgetAllowedOrigins"] == "http://localhost:8080"
    assert not local.search(json.dumps(configs["prod"]))
    with pytest.raises(TemplateError, match="WidgetAllowedOrigins"):
        parameter_values(template, overrides("prod"))
    # And the local stack (make run) still names the demo shop's origins and the one the tests call from
    ours = {k: v for k, v in Settings.from_env().local_parameter_defaults().items() if k in declared}
    assert "http://localhost:8080" in parameter_values(template, ours)["WidgetAllowedOrigins"]


def test_a_shopify_deploy_that_names_no_shop_is_refused_and_the_local_stack_will_not_start_with_it():
    # A public Shopify app signs every store's webhooks with one secret: the desk must know its shop to ignore the
    # others' deliveries, a customers/redact among them (docs/security.md, section 1)
    from local.stack import Stack
    from local.template import Resolver, load_template

    template = load_template(ROOT / "template.yaml")

    def broken(**given: str) -> list[str]:
        def no_resource(name: str) -> Any:
            raise AssertionError(f"a rule named the resource {name}")
        parameters = parameter_values(template, {"WidgetAllowedOrigins": "https://dune-shoes.example"}, given)
        return Resolver(template, parameters, "us-east-1", no_resource).broken_rules()

    assert broken(CommercePlatform="shopify") == [
        template["Rules"]["ShopifyNamesItsShop"]["Assertions"][0]["AssertDescription"]]
    assert broken(CommercePlatform="shopify", ShopifyShopDomain="dune-shoes.myshopify.com") == []
    assert broken(CommercePlatform="woocommerce") == broken(CommercePlatform="none") == []
    # The local stack checks the rules as CloudFormation does, before it starts anything
    overrides = "CommercePlatform=shopify ShopifyShopDomain="
    settings = dataclasses.replace(Settings.from_env(), parameter_overrides=overrides)
    stack = Stack(settings)
    with pytest.raises(TemplateError, match="ShopifyShopDomain must name the shop"):
        stack.start()
    assert not hasattr(stack, "provisioner")        # nothing was made
