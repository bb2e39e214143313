"""DynamoDB's and SQS's JSON requests go straight to moto's handler and are answered as moto's Flask app answers them.

local/aws.py's ``_StraightToHandler`` skips moto's host dispatcher and Flask for the requests the stack's clients
make to DynamoDB and SQS. These tests send the same requests, over HTTP, to the same fresh moto state (its random
identifiers seeded) the straight way and the usual way, and compare the answers byte for byte: status line, every
header in order (but the server's Date) and body; and check which requests take the straight way.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest
from werkzeug.exceptions import BadRequest, BadRequestKeyError

from local import aws as local_aws
from local.aws import Aws

REGION = "us-east-1"
SIGNED = "AWS4-HMAC-SHA256 Credential=fake/20261207/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=f"
TABLE = "straight"
DDB = "application/x-amz-json-1.0"


def _ddb(action: str, body: Any, **headers: str) -> tuple[str, str, dict[str, str]]:
    text = body if isinstance(body, str) else json.dumps(body)
    return text, "/", {"X-Amz-Target": f"DynamoDB_20120810.{action}", "Content-Type": DDB,
                       "Authorization": SIGNED.format(service="dynamodb"), **headers}


def _sqs(action: str, body: Any, **headers: str) -> tuple[str, str, dict[str, str]]:
    return json.dumps(body), "/", {"X-Amz-Target": f"AmazonSQS.{action}", "Content-Type": DDB,
                                   "Authorization": SIGNED.format(service="sqs"), **headers}


def _requests(queue_url: str) -> list[tuple[str, str, dict[str, str]]]:
    key = {"PK": {"S": "CONV#1"}, "SK": {"S": "META"}}
    return [
        _ddb("PutItem", {"TableName": TABLE, "Item": {**key, "n": {"N": "1"}, "tags": {"SS": ["a", "b"]},
                                                       "blob": {"B": "AP8="}, "m": {"M": {"x": {"L": [{"S": "é"}]}}}}}),
        _ddb("GetItem", {"TableName": TABLE, "Key": key}),
        _ddb("UpdateItem", {"TableName": TABLE, "Key": key, "UpdateExpression": "SET n = n + :one, s = :s",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "open"}},
                            "ReturnValues": "ALL_NEW"}),
        _ddb("UpdateItem", {"TableName": TABLE, "Key": key, "UpdateExpression": "SET n = :one",
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        _ddb("Query", {"TableName": TABLE, "KeyConditionExpression": "PK = :p",
                       "ExpressionAttributeValues": {":p": {"S": "CONV#1"}}, "ReturnConsumedCapacity": "TOTAL"}),
        _ddb("TransactWriteItems", {"TransactItems": [
            {"Put": {"TableName": TABLE, "Item": {**key, "SK": {"S": "MSG#1"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key, "ConditionExpression": "s = :closed",
                                "ExpressionAttributeValues": {":closed": {"S": "closed"}}}}]}),
        _ddb("GetItem", {"TableName": "no-such-table", "Key": key}),
        _ddb("GetItem", "{not json"),                                               # moto: a 500
        _ddb("DescribeTimeToLive", {"TableName": TABLE}),
        _ddb("GetItem", {"TableName": TABLE, "Key": key, "raise": "http"}),        # a handler lets out a 400
        _ddb("GetItem", {"TableName": TABLE, "Key": key, "raise": "key"}),         # ... a BadRequestKeyError
        _ddb("GetItem", {"TableName": TABLE, "Key": key, "raise": "error"}),       # ... any other error: a 500
        _ddb("GetItem", {"TableName": TABLE, "Key": key}, Origin="http://localhost:5173"),   # a browser's
        _sqs("SendMessage", {"QueueUrl": queue_url, "MessageBody": "hello", "MessageGroupId": "g",
                             "MessageDeduplicationId": "d1"}),
        _sqs("SendMessage", {"QueueUrl": queue_url, "MessageBody": "hello"}),       # refused: no group
        _sqs("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10}),
        _sqs("GetQueueUrl", {"QueueName": "no-such-queue"}),
        _sqs("DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": [{"Id": "0", "ReceiptHandle": "nope"}]}),
    ]


def _fresh_state(aws: Aws) -> str:
    """DynamoDB and SQS as new, the table and the queue made, moto's random identifiers seeded."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.moto_api._internal import mock_random
    from moto.sqs.models import sqs_backends

    dynamodb_backends.reset()
    sqs_backends.reset()
    ddb = boto3.client("dynamodb", endpoint_url=aws.endpoint, region_name=REGION,
                       aws_access_key_id="fake", aws_secret_access_key="fake")
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                           {"AttributeName": "SK", "AttributeType": "S"}])
    sqs = boto3.client("sqs", endpoint_url=aws.endpoint, region_name=REGION,
                       aws_access_key_id="fake", aws_secret_access_key="fake")
    url = sqs.create_queue(QueueName="straight.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    mock_random.seed(42)
    return url


def _answers(aws: Aws) -> list[tuple[int, str, list[tuple[str, str]], bytes]]:
    host, port = aws.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    answers = []
    for body, path, headers in _requests(_fresh_state(aws)):
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        answers.append((response.status, response.reason,
                        [(k, v) for k, v in response.getheaders() if k != "Date"], response.read()))
        if response.will_close:
            connection.close()
    connection.close()
    return answers


@pytest.fixture
def raising(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB handler lets an exception out when the request's body asks for one."""
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def call(self: Any) -> Any:
        wanted = json.loads(self.body).get("raise") if self.body.startswith("{\"") else None
        if wanted == "http":
            raise BadRequest("refused by the handler")
        if wanted == "key":
            raise BadRequestKeyError("missing")
        if wanted == "error":
            raise RuntimeError("the handler failed")
        return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call)


def test_the_straight_way_answers_byte_for_byte_as_moto_s_flask_app(aws: Aws, raising: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    handler = local_aws._StraightToHandler.handler

    def noting(self: Any, environ: dict[str, Any]) -> Any:
        found = handler(self, environ)
        if found is not None:
            taken.append(environ["HTTP_X_AMZ_TARGET"])
        return found

    monkeypatch.setattr(local_aws._StraightToHandler, "handler", noting)
    straight = _answers(aws)
    # every DynamoDB and SQS request took the straight way (boto3's making the table and the queue too) but the
    # browser's (it has an Origin)
    assert taken[:2] == ["DynamoDB_20120810.CreateTable", "AmazonSQS.CreateQueue"]
    assert len(taken[2:]) == len(straight) - 1
    monkeypatch.setattr(local_aws._StraightToHandler, "handler", lambda self, environ: None)
    usual = _answers(aws)
    assert straight == usual
    statuses = [status for status, *_ in straight]
    assert statuses == [200, 200, 200, 400, 200, 400, 400, 500, 200, 400, 500, 500, 200,
                        200, 400, 200, 400, 200]
    assert dict(straight[0][2])["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("environ", [
    {"REQUEST_METHOD": "GET"},
    {"PATH_INFO": "/123456789012/q"},
    {"HTTP_ORIGIN": "http://localhost:5173"},
    {"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"},
    {"HTTP_X_AMZ_TARGET": "DynamoDB_20111205.GetItem"},
    {"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"},                          # signed for dynamodb
    {"HTTP_AUTHORIZATION": "AWS fake:signature"},
    {"HTTP_AUTHORIZATION": ""},
    {"HTTP_X_AMZ_TARGET": ""},
])
def test_anything_else_goes_the_usual_way(environ: dict[str, str]) -> None:
    usual = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
             "HTTP_AUTHORIZATION": SIGNED.format(service="dynamodb")}
    straight = local_aws._StraightToHandler(lambda environ, start_response: [])
    assert straight.handler(usual) is not None
    assert straight.handler({**usual, **environ}) is None
