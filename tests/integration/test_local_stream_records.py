"""The local stack's stream reader hands the functions the records botocore would have parsed (local/streams.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local import streams
from local.streams import ShardReader


class _Aws:
    """The stack's client cache, over the tests' moto: a fresh client per test (botocore hooks are per client)."""

    def __init__(self, endpoint: str) -> None:
        self.clients: dict[str, Any] = {}
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name="us-east-1", endpoint_url=self.endpoint,
                                                 aws_access_key_id="testing", aws_secret_access_key="testing")
        return self.clients[service]


def test_records_read_from_the_json_as_sent_are_the_events_botocore_s_parse_gave(moto_endpoint):
    aws = _Aws(moto_endpoint)
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="records", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName="records")["Table"]["LatestStreamArn"]
    # Given items of every attribute type (binary nested too), changed, written without binary, and removed
    ddb.put_item(TableName="records", Item={
        "PK": {"S": "a"}, "vectors": {"B": b"\x00\x01\xff"}, "parts": {"BS": [b"x", b"\x00"]}, "n": {"N": "1.50"},
        "ns": {"NS": ["1", "2.5"]}, "ss": {"SS": ["x", "y"]}, "ok": {"BOOL": False}, "none": {"NULL": True},
        "doc": {"M": {"list": {"L": [{"S": "é"}, {"B": b"\xfe"}, {"M": {"deep": {"N": "-3"}}}]}}}})
    ddb.update_item(TableName="records", Key={"PK": {"S": "a"}}, UpdateExpression="SET n = :n REMOVE vectors",
                    ExpressionAttributeValues={":n": {"N": "2"}})
    ddb.put_item(TableName="records", Item={"PK": {"S": "b"}, "text": {"S": "plain"}, "count": {"N": "7"}})
    ddb.delete_item(TableName="records", Key={"PK": {"S": "a"}})
    shard = aws.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    # When the reader reads them (the JSON as sent), and botocore parses the same answer (a client without the hook)
    reader = ShardReader(arn, shard, "TRIM_HORIZON", aws)
    got, _ = reader.read(reader.subscribe())
    plain = _Aws(moto_endpoint).client("dynamodbstreams")
    iterator = plain.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    parsed = plain.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
    # Then the events are the same, member for member and in the same order
    assert len(got) == 4
    assert json.dumps(got) == json.dumps([streams.lambda_record(r, arn) for r in parsed["Records"]])
    assert got[0]["dynamodb"]["NewImage"]["vectors"] == {"B": "AAH/"}
    assert reader.read(0)[0] == []                           # the iterator moved on: nothing read twice
    # And an answer without any binary value (read without walking the images) is the same too
    ddb.put_item(TableName="records", Item={"PK": {"S": "c"}, "doc": {"M": {"n": {"N": "1e2"}, "l": {"L": []}}}})
    later, _ = reader.read(0)
    parsed = plain.get_records(ShardIterator=parsed["NextShardIterator"], Limit=1000)
    assert len(later) == 1 and json.dumps(later) == json.dumps([streams.lambda_record(r, arn)
                                                                for r in parsed["Records"]])
    # And they did come from the JSON: the hook kept the records, botocore parsed only the iterator
    answer = aws.client("dynamodbstreams").get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
    assert "Records" not in answer and len(answer[streams.RAW_RECORDS][0]) == 5
