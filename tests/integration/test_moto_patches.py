"""The local stack's moto patches that only make moto cheaper keep its answers (local/moto_patches.py)."""

from __future__ import annotations

from datetime import datetime

import boto3
from moto import mock_aws
from moto.server import ThreadedMotoServer

from local import moto_patches


def test_queue_counts_are_still_exact_where_they_can_be_read_and_fifo_dedupe_still_holds():
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work.fifo", Attributes={"FifoQueue": "true",
                                                                  "ContentBasedDeduplication": "false"})["QueueUrl"]
        # Given three sends, one of them a repeat of another's deduplication id
        for body, dedupe in (("a", "1"), ("b", "2"), ("a again", "1")):
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId=dedupe)
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                 "ApproximateNumberOfMessagesDelayed"]

        def counts() -> list[int]:
            found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            return [int(found[n]) for n in names]

        # Then the repeat was refused and the counts say two waiting
        assert counts() == [2, 0, 0]
        # When one is received, it is in flight; "All" counts too
        [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
        assert message["Body"] == "a"
        assert counts() == [1, 1, 0]
        every = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert every["ApproximateNumberOfMessages"] == "1" and every["ApproximateNumberOfMessagesNotVisible"] == "1"
        # And a send without a deduplication id is still refused (the attribute it reads is still there)
        try:
            sqs.send_message(QueueUrl=url, MessageBody="c", MessageGroupId="g")
            raise AssertionError("a FIFO send without deduplication id was accepted")
        except sqs.exceptions.ClientError as error:
            assert "MessageDeduplicationId" in str(error)


def test_the_server_still_finds_each_service_by_its_host():
    moto_patches.apply()
    from moto import backends

    modules = backends.list_of_moto_modules()
    assert "dynamodb" in modules and "sqs" in modules
    assert modules is backends.list_of_moto_modules()          # read once


def test_stream_records_written_by_json_dumps_read_back_exactly_as_written():
    moto_patches.apply()
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    assert DynamoDBStreamsHandler.get_records.__module__ == "local.moto_patches"       # the patched writer answers
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        local = {"region_name": "us-east-1", "endpoint_url": endpoint, "aws_access_key_id": "testing",
                 "aws_secret_access_key": "testing"}
        ddb = boto3.client("dynamodb", **local)
        ddb.create_table(TableName="desk", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        # Given an item of every attribute type, then a change to it
        item = {"PK": {"S": "a"}, "vectors": {"B": b"\x00\x01\xff"}, "parts": {"BS": [b"x", b"\x00"]},
                "n": {"N": "1.50"}, "ss": {"SS": ["a"]},
                "m": {"M": {"x": {"L": [{"S": "é \u202e"}, {"BOOL": True}, {"NULL": True}, {"NS": ["1", "2"]}]}}}}
        ddb.put_item(TableName="desk", Item=item)
        ddb.put_item(TableName="desk", Item={**item, "n": {"N": "2"}})
        streams = boto3.client("dynamodbstreams", **local)
        arn = streams.list_streams(TableName="desk")["Streams"][0]["StreamArn"]
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        # When the stream is read
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        # Then boto3 reads the records as DynamoDB wrote them: every type, binary as bytes, the time as a datetime
        inserted, modified = answer["Records"]
        assert (inserted["eventName"], modified["eventName"]) == ("INSERT", "MODIFY")
        assert inserted["dynamodb"]["NewImage"] == item
        assert modified["dynamodb"]["OldImage"] == item and modified["dynamodb"]["NewImage"]["n"] == {"N": "2"}
        assert isinstance(inserted["dynamodb"]["ApproximateCreationDateTime"], datetime)
        # And the next iterator goes on after them
        assert streams.get_records(ShardIterator=answer["NextShardIterator"])["Records"] == []
        # And every read answers the item as written, with absent members absent
        changed = {**item, "n": {"N": "2"}}
        assert ddb.get_item(TableName="desk", Key={"PK": {"S": "a"}})["Item"] == changed
        assert "Item" not in ddb.get_item(TableName="desk", Key={"PK": {"S": "nobody"}})
        key_a = {"KeyConditionExpression": "PK = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}}
        page = ddb.query(TableName="desk", ReturnConsumedCapacity="TOTAL", **key_a)
        assert page["Items"] == [changed] and page["Count"] == 1 and "LastEvaluatedKey" not in page
        assert page["ConsumedCapacity"]["TableName"] == "desk"
        ddb.put_item(TableName="desk", Item={"PK": {"S": "b"}})
        first = ddb.scan(TableName="desk", Limit=1)
        assert len(first["Items"]) == 1 and "LastEvaluatedKey" in first
        both = ddb.batch_get_item(RequestItems={"desk": {"Keys": [{"PK": {"S": "a"}}, {"PK": {"S": "b"}}]}})
        assert sorted(i["PK"]["S"] for i in both["Responses"]["desk"]) == ["a", "b"]
        assert both["UnprocessedKeys"] == {}
        [got] = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "desk", "Key": {"PK": {"S": "a"}}}}])[
            "Responses"]
        assert got["Item"] == changed
        # And a refused read is still the service's error
        try:
            ddb.query(TableName="nowhere", **key_a)
            raise AssertionError("a query of a missing table answered")
        except ddb.exceptions.ResourceNotFoundException:
            pass
    finally:
        server.stop()
