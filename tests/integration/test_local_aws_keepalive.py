"""The local AWS endpoint keeps a client's connection open across requests (local/aws.py).

boto3 pools its connections; werkzeug's server closed each after one response, so every call the
functions made was a new connection and a new server thread. These tests count the connections the
server accepts and check that what keeps them open does not mix one request's body into the next.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
from typing import Any

import boto3
import pytest

from local.aws import Aws

REGION = "us-east-1"


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection the server accepts from now on."""
    seen: list[Any] = []
    original = socketserver.ThreadingMixIn.process_request

    def counting(self: Any, request: Any, address: Any) -> None:
        seen.append(address)
        original(self, request, address)

    monkeypatch.setattr(socketserver.ThreadingMixIn, "process_request", counting)
    return seen


def _client(aws: Aws, service: str) -> Any:
    return boto3.client(service, endpoint_url=aws.endpoint, region_name=REGION,
                        aws_access_key_id="fake", aws_secret_access_key="fake")


def _connection(aws: Aws) -> http.client.HTTPConnection:
    host, port = aws.endpoint.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


SQS_HEADERS = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": "AWS4-HMAC-SHA256 Credential=fake/20261206/us-east-1/sqs/aws4_request, "
                                "SignedHeaders=host, Signature=fake"}


def test_a_client_s_calls_share_one_connection(aws: Aws, accepted: list[Any]) -> None:
    # Given a DynamoDB client (its pool holds the connection between calls)
    dynamodb = _client(aws, "dynamodb")
    dynamodb.create_table(TableName="keepalive", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    # When it makes fifty writes and fifty reads one after another
    for i in range(50):
        dynamodb.put_item(TableName="keepalive", Item={"pk": {"S": f"k{i}"}, "v": {"S": "x" * 200}})
        assert dynamodb.get_item(TableName="keepalive", Key={"pk": {"S": f"k{i}"}})["Item"]["v"]["S"] == "x" * 200
    # Then the server accepted one connection for all of them (one per call before)
    assert len(accepted) == 1


def test_each_body_is_read_whole_so_the_next_request_on_the_connection_is_intact(aws: Aws,
                                                                                accepted: list[Any]) -> None:
    sqs = _client(aws, "sqs")
    url = sqs.create_queue(QueueName="keepalive-bodies")["QueueUrl"]
    connection = _connection(aws)
    # When one connection sends a body by its length, then one in chunks, then one by its length again
    bodies = [f"Action=SendMessage&QueueUrl={url}&MessageBody=first",
              f"Action=SendMessage&QueueUrl={url}&MessageBody=second-in-chunks",
              f"Action=SendMessage&QueueUrl={url}&MessageBody=third"]
    for n, body in enumerate(bodies):
        if n == 1:
            half = len(body) // 2
            connection.request("POST", "/", body=iter([body[:half].encode(), body[half:].encode()]),
                               headers=SQS_HEADERS, encode_chunked=True)
        else:
            connection.request("POST", "/", body=body, headers=SQS_HEADERS)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200
        assert answer.getheader("Connection") != "close"
    connection.close()
    # Then each message arrived whole, and one connection carried the three
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["first", "second-in-chunks", "third"]
    assert len(accepted) == 2          # the raw connection, then the boto3 client's


def test_a_client_that_asks_to_close_is_answered_and_closed(aws: Aws) -> None:
    host, port = aws.endpoint.removeprefix("http://").split(":")
    body = b"Action=ListQueues"
    head = "".join(f"{k}: {v}\r\n" for k, v in SQS_HEADERS.items())
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Content-Length: {len(body)}\r\n"
                    f"Connection: close\r\n\r\n".encode() + body)
        # Then the answer comes and the server closes its side (a kept connection would time out here)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200") and b"ListQueuesResponse" in received


@pytest.mark.parametrize("framing", [
    b"Content-Length: abc\r\n\r\nAction=ListQueues",
    b"Content-Length: -5\r\n\r\nAction=ListQueues",
    b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\nAction=ListQueues\r\n0\r\n\r\n",
], ids=["length not a number", "negative length", "chunk size not a number"])
def test_a_body_that_cannot_be_read_is_answered_400_and_the_server_goes_on(aws: Aws, framing: bytes) -> None:
    host, port = aws.endpoint.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in SQS_HEADERS.items())
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n{head}".encode() + framing)
        # Then an answer comes (none came before: the connection was dropped), and the connection is closed,
        # since where a next request would start is not known
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400") and b"unreadable request body" in received
    # And the endpoint still answers the next client
    assert _client(aws, "sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_after_a_response_the_server_does_not_wait_to_read_a_body_it_has_read_whole(
        aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # werkzeug reads the socket dry after each response (a selector made, polled up to 10 ms, closed): with
    # the body read whole before moto saw it, that pass reads nothing, and cost the server a selector per request
    import selectors

    made: list[Any] = []
    original = selectors.DefaultSelector

    def counting() -> Any:
        made.append(1)
        return original()

    monkeypatch.setattr(selectors, "DefaultSelector", counting)
    sqs = _client(aws, "sqs")
    url = sqs.create_queue(QueueName="keepalive-no-drain")["QueueUrl"]
    connection = _connection(aws)
    # When one connection sends three requests, one of them in chunks
    for n in range(3):
        body = f"Action=SendMessage&QueueUrl={url}&MessageBody=m{n}"
        if n == 1:
            connection.request("POST", "/", body=iter([body[:9].encode(), body[9:].encode()]),
                               headers=SQS_HEADERS, encode_chunked=True)
        else:
            connection.request("POST", "/", body=body, headers=SQS_HEADERS)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200
    connection.close()
    # Then no selector was made for them, and each message arrived whole
    assert made == []
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["m0", "m1", "m2"]
