"""Creates every resource of the template in moto, generically by type, the way CloudFormation would.

Each handler maps the CloudFormation properties onto the service API and returns what the
resource answers to !Ref and !GetAtt (the return values documented for that type). SAM resources
(AWS::Serverless::*) are read directly rather than transformed: functions and layers are run by
the local runtime, the HttpApi by the local gateway. Types the stack does not know are skipped
with a warning; a reference to one then fails loudly.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.aws import Aws
from local.settings import STACK_NAME, secret_values
from local.template import Physical, Resolver, TemplateError

log = logging.getLogger("provision")

LOCAL_API_ID = "localapi"
# Standard attributes every app client may read when ReadAttributes is not given (Cognito's default).
_READABLE_STANDARD_ATTRIBUTES = [
    "address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name",
    "locale", "middle_name", "name", "nickname", "phone_number", "phone_number_verified",
    "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo",
]  # fmt: skip
_SQS_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
    "FifoThroughputLimit", "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize",
    "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy",
    "SqsManagedSseEnabled", "VisibilityTimeout",
)  # fmt: skip
_USER_POOL_FIELDS = (
    "Policies", "LambdaConfig", "AutoVerifiedAttributes", "AliasAttributes", "UsernameAttributes",
    "SmsVerificationMessage", "EmailVerificationMessage", "EmailVerificationSubject",
    "VerificationMessageTemplate", "SmsAuthenticationMessage", "MfaConfiguration", "DeviceConfiguration",
    "EmailConfiguration", "SmsConfiguration", "UserPoolTags", "AdminCreateUserConfig", "Schema",
    "UserPoolAddOns", "UsernameConfiguration", "AccountRecoverySetting", "DeletionProtection",
)  # fmt: skip
_SKIPPED_QUIETLY = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    # resource policies: nothing enforces them locally
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    # the web inbox's hosting and hosted sign-in: the gateway serves web/dist and signs agents in itself
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::Cognito::UserPoolDomain",
    "AWS::CloudWatch::Alarm",  # nothing measures locally
    # the topics' customer-managed key: moto's SNS encrypts nothing, so nothing asks KMS locally
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
}
LOCAL_WS_API_ID = "localws"


@dataclass
class ReceiptRule:
    """An SES receipt rule of the template (the ``Rule`` property as CloudFormation takes it)."""

    logical_id: str
    rule_set: str
    rule: dict[str, Any]

    @property
    def enabled(self) -> bool:
        return str(self.rule.get("Enabled", True)).lower() != "false"

    @property
    def recipients(self) -> list[str]:
        return [str(r).lower() for r in self.rule.get("Recipients") or []]

    def s3_action(self) -> dict[str, Any] | None:
        for action in self.rule.get("Actions") or []:
            if isinstance(action, dict) and action.get("S3Action"):
                return dict(action["S3Action"])
        return None

    def matches(self, address: str) -> bool:
        """SES's recipient match: the address, its domain, or ``.domain`` for any subdomain."""
        if not self.recipients:
            return True
        address = address.lower()
        domain = address.rpartition("@")[2]
        return any(
            address == r or domain == r or (r.startswith(".") and domain.endswith(r)) for r in self.recipients
        )


@dataclass
class Layer:
    logical_id: str
    arn: str
    content_dir: Path


class Provisioner:
    """Creates resources on first reference and remembers their physical ids."""

    def __init__(
        self, template: dict[str, Any], template_dir: Path, aws: Aws, base_url: str, websocket_base_url: str = ""
    ) -> None:
        self.template = template
        self.template_dir = template_dir
        self.aws = aws
        self.base_url = base_url
        self.websocket_base_url = websocket_base_url  # ws://127.0.0.1:<port> (local.live serves it)
        self.resolver: Resolver  # set by the stack right after construction
        self.created: dict[str, Physical] = {}
        self.types: dict[str, str] = {}
        self.layers: dict[str, Layer] = {}  # by ARN
        self.queues: dict[str, str] = {}  # ARN -> URL
        self.bucket_notifications: dict[str, dict[str, Any]] = {}  # bucket -> NotificationConfiguration
        self.receipt_rules: list[ReceiptRule] = []  # in template order
        self._in_progress: set[str] = set()
        self._handlers: dict[str, Callable[[str, dict[str, Any]], Physical]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::SNS::Topic": self._topic,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SES::ReceiptRuleSet": self._receipt_rule_set,
            "AWS::SES::ReceiptRule": self._receipt_rule,
            "AWS::SES::ConfigurationSet": self._configuration_set,
            "AWS::SES::ConfigurationSetEventDestination": self._configuration_set_event_destination,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::IAM::Role": self._role,
            # the event lake: Firehose writes to S3 (moto writes each batch as it comes); Glue and Athena are
            # created so the template's shapes are checked, but reports run on DuckDB locally (AnalyticsEngine)
            "AWS::KinesisFirehose::DeliveryStream": self._delivery_stream,
            "AWS::Glue::Database": self._glue_database,
            "AWS::Glue::Table": self._glue_table,
            "AWS::Athena::WorkGroup": self._work_group,
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Lambda::LayerVersion": self._layer,
            "AWS::Serverless::HttpApi": self._http_api,
            # WebSocket APIs: served by local.live, which reads routes and authorizers from the template
            "AWS::ApiGatewayV2::Api": self._v2_api,
            "AWS::ApiGatewayV2::Stage": self._v2_stage,
            "AWS::ApiGatewayV2::Route": self._v2_part,
            "AWS::ApiGatewayV2::Integration": self._v2_part,
            "AWS::ApiGatewayV2::Authorizer": self._v2_part,
            "AWS::ApiGatewayV2::Deployment": self._v2_part,
        }

    # ------------------------------------------------------------ entry points

    def provision_all(self) -> None:
        for logical_id in self.template["Resources"]:
            if self.resolver.resource_enabled(logical_id):
                self.lookup(logical_id)
            else:
                log.info("%s skipped: its condition is false", logical_id)

    def lookup(self, logical_id: str) -> Physical:
        """The resource's physical ids, creating it (and what it refers to) on first use."""
        if logical_id in self.created:
            return self.created[logical_id]
        if logical_id in self._in_progress:
            raise TemplateError(f"circular reference through {logical_id}")
        resource = self.template["Resources"][logical_id]
        kind = resource.get("Type", "")
        handler = self._handlers.get(kind)
        if handler is None:
            if kind not in _SKIPPED_QUIETLY:
                log.warning("%s (%s) skipped: the local stack does not create this type", logical_id, kind)
            physical = Physical(ref=logical_id)
        else:
            self._in_progress.add(logical_id)
            try:
                properties = self.resolver.resolve(resource.get("Properties") or {})
                physical = handler(logical_id, properties)
            finally:
                self._in_progress.discard(logical_id)
            log.info("%s (%s) -> %s", logical_id, kind, physical.ref)
        self.created[logical_id] = physical
        self.types[logical_id] = kind
        return physical

    def of_type(self, kind: str) -> list[str]:
        return [lid for lid, res in self.template["Resources"].items() if res.get("Type") == kind]

    def _name(self, logical_id: str, suffix: str = "") -> str:
        return f"{STACK_NAME}-{logical_id}{suffix}"

    # ------------------------------------------------------------ data

    def _table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        ddb = self.aws.client("dynamodb")
        name = props.get("TableName") or self._name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = _ints(props["ProvisionedThroughput"])
        index_keys = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                request[key] = [
                    {
                        k: _ints(v) if k == "ProvisionedThroughput" else v
                        for k, v in index.items()
                        if k in index_keys
                    }
                    for index in props[key]
                ]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        sse = props.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                k: v
                for k, v in {
                    "Enabled": _bool(sse.get("SSEEnabled", False)),
                    "SSEType": sse.get("SSEType"),
                    "KMSMasterKeyId": sse.get("KMSMasterKeyId"),
                }.items()
                if v is not None
            }
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        try:
            description = ddb.create_table(**request)["TableDescription"]
        except Exception as error:  # encryption settings are not essential locally
            if "SSESpecification" not in request:
                raise
            log.warning(
                "%s: creating with SSESpecification failed (%s); creating without it", logical_id, error
            )
            request.pop("SSESpecification")
            description = ddb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and _bool(ttl.get("Enabled", False)):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and _bool(pitr.get("PointInTimeRecoveryEnabled", False)):
            try:
                ddb.update_continuous_backups(
                    TableName=name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
            except Exception:  # backups are irrelevant locally
                log.debug("%s: point-in-time recovery not set", logical_id, exc_info=True)
        attrs = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attrs["StreamArn"] = description["LatestStreamArn"]
        return Physical(ref=name, attrs=attrs)

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sqs = self.aws.client("sqs")
        fifo = _bool(props.get("FifoQueue", False))
        name = props.get("QueueName") or self._name(logical_id, ".fifo" if fifo else "")
        attributes: dict[str, str] = {}
        for key in _SQS_ATTRIBUTES:
            if key in props:
                value = props[key]
                if isinstance(value, dict | list):
                    attributes[key] = json.dumps(value)
                elif isinstance(value, bool):
                    attributes[key] = "true" if value else "false"
                else:
                    attributes[key] = str(value)
        request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            request["tags"] = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
        url = sqs.create_queue(**request)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queues[arn] = url
        return Physical(ref=url, attrs={"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self._name(logical_id)
        arn = self.aws.client("events").create_event_bus(Name=name)["EventBusArn"]
        return Physical(ref=name, attrs={"Arn": arn, "Name": name})

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sns = self.aws.client("sns")
        fifo = _bool(props.get("FifoTopic", False))
        name = props.get("TopicName") or self._name(logical_id, ".fifo" if fifo else "")
        attributes = {"FifoTopic": "true"} if fifo else {}
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription") or []:
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        return Physical(ref=arn, attrs={"TopicArn": arn, "TopicName": name})

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("BucketName") or f"{STACK_NAME}-{logical_id.lower()}-{secrets.token_hex(4)}"
        request: dict[str, Any] = {"Bucket": name}
        if self.aws.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
        s3 = self.aws.client("s3")
        s3.create_bucket(**request)
        cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
        if cors:  # browsers upload with presigned POSTs: the widget needs the bucket's CORS rules
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in cors]})
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules")
        if rules:  # moto keeps them (it expires nothing): the admin API reads and rewrites the lake's
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]})
        if props.get("NotificationConfiguration"):
            # applied once the functions are known (local.s3events), with the functions' S3 events
            self.bucket_notifications[name] = props["NotificationConfiguration"]
        return Physical(
            ref=name,
            attrs={
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.aws.region}.amazonaws.com",
            },
        )

    def _receipt_rule_set(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("RuleSetName") or self._name(logical_id)
        self.aws.client("ses").create_receipt_rule_set(RuleSetName=name)
        return Physical(ref=name)

    def _receipt_rule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        rule = dict(props.get("Rule") or {})
        rule.setdefault("Name", self._name(logical_id))
        rule_set = str(props["RuleSetName"])
        self.receipt_rules.append(ReceiptRule(logical_id, rule_set, rule))
        request: dict[str, Any] = {"RuleSetName": rule_set, "Rule": _ses_rule(rule)}
        if props.get("After"):
            request["After"] = props["After"]
        try:
            self.aws.client("ses").create_receipt_rule(**request)
        except Exception as error:  # the local stack reads the rule from the template anyway
            log.warning(
                "%s: moto did not take the receipt rule (%s); POST /_local/email still uses it",
                logical_id,
                error,
            )
        return Physical(ref=rule["Name"])

    def _configuration_set(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self._name(logical_id)
        self.aws.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        return Physical(ref=name)

    def _configuration_set_event_destination(self, logical_id: str, props: dict[str, Any]) -> Physical:
        destination = dict(props.get("EventDestination") or {})
        destination.setdefault("Name", logical_id)
        # CloudFormation spells it SnsDestination, the API SNSDestination
        if "SnsDestination" in destination:
            destination["SNSDestination"] = destination.pop("SnsDestination")
        if "Enabled" in destination:
            destination["Enabled"] = _bool(destination["Enabled"])
        try:
            self.aws.client("ses").create_configuration_set_event_destination(
                ConfigurationSetName=props["ConfigurationSetName"], EventDestination=destination
            )
        except Exception as error:  # moto does not publish sending events anyway
            log.warning("%s: moto did not take the event destination (%s)", logical_id, error)
        return Physical(ref=str(destination["Name"]))

    # ------------------------------------------------------------ configuration and secrets

    def _secret(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self._name(logical_id)
        secret_string = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if secret_string is None and generate:
            value = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
            if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
                document = json.loads(generate["SecretStringTemplate"])
                document[generate["GenerateStringKey"]] = value
                secret_string = json.dumps(document)
            else:
                secret_string = value
        from_env = secret_values(logical_id)
        if from_env is not None:
            document = json.loads(secret_string) if secret_string else {}
            document.update(from_env)
            secret_string = json.dumps(document)
            log.info("%s: values from the environment (%s)", logical_id, ", ".join(sorted(from_env)))
        request: dict[str, Any] = {"Name": name, "SecretString": secret_string or ""}
        if props.get("Description"):
            request["Description"] = props["Description"]
        arn = self.aws.client("secretsmanager").create_secret(**request)["ARN"]
        return Physical(ref=arn, attrs={"Id": arn})

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or f"/{STACK_NAME}/{logical_id}"
        self.aws.client("ssm").put_parameter(
            Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"), Overwrite=True
        )
        return Physical(ref=name, attrs={"Type": props.get("Type", "String"), "Value": str(props["Value"])})

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("LogGroupName") or f"/{STACK_NAME}/{logical_id}"
        logs = self.aws.client("logs")
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return Physical(ref=name, attrs={"Arn": self.aws.arn("logs", f"log-group:{name}:*")})

    # ------------------------------------------------------------ identity

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> Physical:
        request: dict[str, Any] = {"PoolName": props.get("UserPoolName") or self._name(logical_id)}
        request.update({key: props[key] for key in _USER_POOL_FIELDS if key in props})
        pool = self.aws.client("cognito-idp").create_user_pool(**request)["UserPool"]
        provider = f"cognito-idp.{self.aws.region}.amazonaws.com/{pool['Id']}"
        return Physical(
            ref=pool["Id"],
            attrs={
                "Arn": pool["Arn"],
                "UserPoolId": pool["Id"],
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
            },
        )

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> Physical:
        request = {key: value for key, value in props.items() if key != "UserPoolId"}
        request.setdefault("ClientName", self._name(logical_id))
        # Cognito lets a client read every attribute unless ReadAttributes narrows it; moto
        # puts only the listed ones in the ID token, so list the standard ones explicitly.
        request.setdefault("ReadAttributes", _READABLE_STANDARD_ATTRIBUTES)
        client = self.aws.client("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"], **request
        )
        details = client["UserPoolClient"]
        return Physical(
            ref=details["ClientId"],
            attrs={
                "ClientId": details["ClientId"],
                "Name": details["ClientName"],
                "ClientSecret": details.get("ClientSecret", ""),
            },
        )

    # ------------------------------------------------------------ roles and the event lake

    def _role(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Nothing enforces roles locally: only the name and ARN others refer to."""
        name = props.get("RoleName") or self._name(logical_id)
        return Physical(ref=name, attrs={"Arn": f"arn:aws:iam::{self.aws.account_id}:role/{name}", "RoleId": name})

    def _delivery_stream(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("DeliveryStreamName") or self._name(logical_id)
        request: dict[str, Any] = {"DeliveryStreamName": name,
                                   "DeliveryStreamType": props.get("DeliveryStreamType", "DirectPut")}
        for key in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
            if key in props:
                request[key] = props[key]
        arn = self.aws.client("firehose").create_delivery_stream(**request)["DeliveryStreamARN"]
        return Physical(ref=name, attrs={"Arn": arn})

    def _glue_database(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props["DatabaseInput"]["Name"]
        self.aws.client("glue").create_database(DatabaseInput=props["DatabaseInput"])
        return Physical(ref=name)

    def _glue_table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props["TableInput"]["Name"]
        self.aws.client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
        return Physical(ref=name)

    def _work_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props["Name"]
        configuration = {k: v for k, v in (props.get("WorkGroupConfiguration") or {}).items()
                         if k in ("ResultConfiguration", "EnforceWorkGroupConfiguration",
                                  "PublishCloudWatchMetricsEnabled", "BytesScannedCutoffPerQuery")}
        if "BytesScannedCutoffPerQuery" in configuration:    # a template parameter: resolved as text
            configuration["BytesScannedCutoffPerQuery"] = int(configuration["BytesScannedCutoffPerQuery"])
        self.aws.client("athena").create_work_group(Name=name, Configuration=configuration,
                                                    Description=props.get("Description", ""))
        return Physical(ref=name)

    # ------------------------------------------------------------ SAM resources run locally

    def _function(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("FunctionName") or self._name(logical_id)
        return Physical(ref=name, attrs={"Arn": self.aws.arn("lambda", f"function:{name}")})

    def _layer(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("LayerName") or self._name(logical_id)
        arn = self.aws.arn("lambda", f"layer:{name}:1")
        content = props.get("ContentUri") or props.get("Content")
        if not isinstance(content, str):
            raise TemplateError(f"{logical_id}: the local stack needs ContentUri as a local directory")
        self.layers[arn] = Layer(logical_id, arn, (self.template_dir / content).resolve())
        return Physical(ref=arn, attrs={"Arn": arn})

    def _http_api(self, logical_id: str, props: dict[str, Any]) -> Physical:
        apis = self.of_type("AWS::Serverless::HttpApi")
        api_id = (
            LOCAL_API_ID if apis.index(logical_id) == 0 else f"{LOCAL_API_ID}{apis.index(logical_id) + 1}"
        )
        return Physical(ref=api_id, attrs={"ApiEndpoint": self.base_url, "ApiId": api_id})

    def _v2_api(self, logical_id: str, props: dict[str, Any]) -> Physical:
        if str(props.get("ProtocolType", "")).upper() != "WEBSOCKET":
            log.warning("%s: only WEBSOCKET ApiGatewayV2 APIs are served locally", logical_id)
        apis = self.of_type("AWS::ApiGatewayV2::Api")
        number = apis.index(logical_id) + 1
        api_id = LOCAL_WS_API_ID if number == 1 else f"{LOCAL_WS_API_ID}{number}"
        return Physical(ref=api_id, attrs={"ApiEndpoint": self.websocket_base_url, "ApiId": api_id})

    def _v2_stage(self, logical_id: str, props: dict[str, Any]) -> Physical:
        return Physical(ref=str(props.get("StageName") or "$default"))

    def _v2_part(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Routes, integrations, authorizers: their ids are what other parts refer to."""
        return Physical(ref=logical_id, attrs={"AuthorizerId": logical_id, "IntegrationId": logical_id,
                                               "RouteId": logical_id, "DeploymentId": logical_id})


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule (``Id``, ``Status``, ``Prefix``, ``ExpirationInDays``) as S3's API takes it."""
    out: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule.get("Status", "Enabled"),
                           "Filter": {"Prefix": rule.get("Prefix", "")}}
    if rule.get("ExpirationInDays") is not None:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    return out


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule as the S3 API takes it."""
    converted: dict[str, Any] = {
        "AllowedMethods": list(rule["AllowedMethods"]),
        "AllowedOrigins": list(rule["AllowedOrigins"]),
    }
    for cfn_key, api_key in (
        ("AllowedHeaders", "AllowedHeaders"),
        ("ExposedHeaders", "ExposeHeaders"),
        ("Id", "ID"),
    ):
        if rule.get(cfn_key):
            converted[api_key] = rule[cfn_key]
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = int(rule["MaxAge"])
    return converted


def _ses_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's Rule property as the SES API takes it (booleans, not strings)."""
    converted = dict(rule)
    for key in ("Enabled", "ScanEnabled"):
        if key in converted:
            converted[key] = _bool(converted[key])
    return converted


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _ints(throughput: dict[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in throughput.items()}
