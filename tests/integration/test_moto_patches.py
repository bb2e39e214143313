"""The local stack's moto patches that only make moto cheaper keep its answers (local/moto_patches.py)."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
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


def test_reads_are_written_from_moto_s_objects_without_copying_them_into_dicts_first(moto_endpoint, monkeypatch):
    import moto.dynamodb.responses as responses

    copied: list[str] = []
    convert = responses.dynamo_to_dict
    monkeypatch.setattr(responses, "dynamo_to_dict", lambda obj: copied.append(type(obj).__name__) or convert(obj))
    ddb = _client(moto_endpoint)
    ddb.create_table(TableName="reads", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    item = {"PK": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"\x01"]},
            "m": {"M": {"l": {"L": [{"N": "1"}]}}}}
    ddb.put_item(TableName="reads", Item=item)
    copied.clear()
    # When every read answers
    assert ddb.get_item(TableName="reads", Key={"PK": {"S": "a"}})["Item"] == item
    assert ddb.query(TableName="reads", KeyConditionExpression="PK = :a",
                     ExpressionAttributeValues={":a": {"S": "a"}})["Items"] == [item]
    assert ddb.scan(TableName="reads")["Items"] == [item]
    assert ddb.batch_get_item(RequestItems={"reads": {"Keys": [{"PK": {"S": "a"}}]}})["Responses"]["reads"] == [item]
    assert ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "reads", "Key": {"PK": {"S": "a"}}}}])[
        "Responses"] == [{"Item": item}]
    # Then none went through moto's copy into dicts, and a write's answer still does (moto's serialiser writes it)
    assert copied == []
    ddb.update_item(TableName="reads", Key={"PK": {"S": "a"}}, UpdateExpression="SET n = :n",
                    ExpressionAttributeValues={":n": {"N": "2"}}, ReturnValues="ALL_NEW")
    assert copied


# Query: the patched one gathers its candidates from the partition (or a GSI's map); moto's own walks every item.

def _client(endpoint: str) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@contextlib.contextmanager
def _moto_alone() -> Iterator[None]:
    """Table.query as moto wrote it, for the same state (the patch's maps are kept meanwhile)."""
    from moto.dynamodb.models.table import Table

    patched = Table.query
    Table.query = patched.__wrapped__  # type: ignore[attr-defined]
    try:
        yield
    finally:
        Table.query = patched  # type: ignore[method-assign]


def _pages(ddb: Any, query: dict[str, Any]) -> list[Any]:
    """Every page of a query (each answer without its request metadata), or the error it ends with."""
    pages: list[Any] = []
    start = None
    while True:
        try:
            page = ddb.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        except ClientError as error:
            return [*pages, error.response["Error"]]
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 50:
            return pages


def _same_as_moto(ddb: Any, **query: Any) -> list[Any]:
    patched = _pages(ddb, query)
    with _moto_alone():
        own = _pages(ddb, query)
    assert patched == own, query
    return patched


def _keys(pages: list[Any]) -> list[tuple[str, str]]:
    return [(i["PK"]["S"], i["SK"]["S"]) for page in pages for i in page["Items"]]


_GSI = [("ByG", "GPK", "S", "GSK"), ("Queue", "QPK", "S", "QSK"), ("ByN", "NPK", "N", None)]


def _make_desk_table(ddb: Any, name: str) -> None:
    """The app's shape: PK/SK, GSIs with a range key, a sparse one, one keyed by a number and no range; an LSI."""
    names = {"PK": "S", "SK": "S", "LSK": "S"}
    indexes = []
    for index, hash_attr, hash_type, range_attr in _GSI:
        names[hash_attr] = hash_type
        schema = [{"AttributeName": hash_attr, "KeyType": "HASH"}]
        if range_attr:
            names[range_attr] = "S"
            schema.append({"AttributeName": range_attr, "KeyType": "RANGE"})
        projection = {"ProjectionType": "KEYS_ONLY"} if index == "ByN" else {"ProjectionType": "ALL"}
        indexes.append({"IndexName": index, "KeySchema": schema, "Projection": projection})
    table_key = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=table_key,
                     AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in names.items()],
                     GlobalSecondaryIndexes=indexes,
                     LocalSecondaryIndexes=[{"IndexName": "ByL", "Projection": {"ProjectionType": "ALL"},
                                             "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                                                           {"AttributeName": "LSK", "KeyType": "RANGE"}]}])


def test_a_table_query_reads_only_its_partition_and_answers_exactly_as_moto_does(moto_endpoint, monkeypatch):
    from moto.dynamodb.models.table import Table

    ddb = _client(moto_endpoint)
    _make_desk_table(ddb, "partitioned")
    # Given three conversations of twelve messages, and a table of one key only
    for conv in range(3):
        for n in range(12):
            ddb.put_item(TableName="partitioned", Item={"PK": {"S": f"CONV#{conv}"}, "SK": {"S": f"MSG#{n:02d}"},
                                                        "n": {"N": str(n)}, "body": {"S": "x" * n}})
    ddb.put_item(TableName="partitioned", Item={"PK": {"S": "CONV#1"}, "SK": {"S": "META"}, "status": {"S": "open"}})
    ddb.create_table(TableName="flat", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}])
    ddb.put_item(TableName="flat", Item={"PK": {"S": "a"}, "v": {"S": "1"}})
    ddb.put_item(TableName="flat", Item={"PK": {"S": "b"}, "v": {"S": "2"}})
    seen: list[int] = []
    narrowed = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda self: seen.append(len(found := narrowed(self))) or found)

    def query(key: str, condition: str = "", table: str = "partitioned", **more: Any) -> list[Any]:
        values = {":pk": {"S": key}, **more.pop("ExpressionAttributeValues", {})}
        return _same_as_moto(ddb, TableName=table, KeyConditionExpression="PK = :pk" + condition,
                             ExpressionAttributeValues=values, **more)

    # When a conversation's messages are read in every way the key condition allows
    seen.clear()
    everything = query("CONV#1")
    assert seen[0] == 13                                      # its partition, not the table's 37 items
    assert _keys(everything) == [("CONV#1", "META")] + [("CONV#1", f"MSG#{n:02d}") for n in range(12)]
    assert _keys(query("CONV#1", " AND begins_with(SK, :m)", ExpressionAttributeValues={":m": {"S": "MSG#0"}})) == [
        ("CONV#1", f"MSG#0{n}") for n in range(10)]
    between = {":a": {"S": "MSG#03"}, ":b": {"S": "MSG#05"}}
    assert len(_keys(query("CONV#2", " AND SK BETWEEN :a AND :b", ExpressionAttributeValues=between))) == 3
    for op in ("<", "<=", ">", ">="):
        query("CONV#0", f" AND SK {op} :m", ExpressionAttributeValues={":m": {"S": "MSG#07"}})
        query("CONV#0", f" AND SK {op} :m", ExpressionAttributeValues={":m": {"S": "MSG#07"}}, ScanIndexForward=False)
    # Then Limit pages through it with ExclusiveStartKey, forwards and backwards, counts and keys as moto's
    paged = query("CONV#1", Limit=5, ScanIndexForward=False)
    assert [p["Count"] for p in paged] == [5, 5, 3]
    assert _keys(paged) == list(reversed(_keys(everything)))
    query("CONV#1", " AND begins_with(SK, :m)", ExpressionAttributeValues={":m": {"S": "MSG"}}, Limit=4)
    # And filters (ScannedCount counts what the key read), projections, a count
    filtered = query("CONV#1", FilterExpression="n >= :six", ExpressionAttributeValues={":six": {"N": "6"}}, Limit=8)
    assert filtered[0]["ScannedCount"] == 8 and filtered[0]["Count"] == 1        # META, MSG#00-06: MSG#06
    query("CONV#2", ProjectionExpression="SK, #b", ExpressionAttributeNames={"#b": "body"}, Limit=3)
    query("CONV#2", Select="COUNT")
    query("CONV#0", " AND SK > :m", ExpressionAttributeValues={":m": {"S": "MSG#05"}}, ScanIndexForward=False,
          Limit=2, FilterExpression="attribute_exists(body)", ProjectionExpression="PK, SK, n")
    # And a partition that is not there, or a key value of another type, finds nothing, as in moto
    assert query("CONV#9")[0]["Items"] == []
    _same_as_moto(ddb, TableName="partitioned", KeyConditionExpression="PK = :pk",
                  ExpressionAttributeValues={":pk": {"N": "1"}})
    # And a table without a range key reads its one item
    seen.clear()
    assert query("b", table="flat")[0]["Items"] == [{"PK": {"S": "b"}, "v": {"S": "2"}}]
    assert seen[0] == 1


def test_a_narrowed_query_copies_no_item_and_leaves_the_stored_ones_as_they_were(moto_endpoint, monkeypatch):
    ddb = _client(moto_endpoint)
    name = "uncopied"
    _make_desk_table(ddb, name)
    stored = [{"PK": {"S": "c1"}, "SK": {"S": f"MSG#{n}"}, "QPK": {"S": "A"}, "QSK": {"S": f"{n}"}, "NPK": {"N": "1"},
               "body": {"M": {"text": {"S": f"hello {n}"}, "tags": {"SS": ["x", "y"]}}}} for n in range(3)]
    for item in stored:
        ddb.put_item(TableName=name, Item=item)
    items_copied: list[int] = []         # deep copies of a list of items (moto's Query copies what it found)
    deepcopy = moto_patches.copy_module.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        if isinstance(value, list) and value and type(value[0]).__name__ == "Item":
            items_copied.append(len(value))
        return deepcopy(value, memo)

    monkeypatch.setattr(moto_patches.copy_module, "deepcopy", counting)
    # When the partition and a GSI are queried, whole and projected (a projection builds new items)
    by_pk = {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "c1"}}}
    assert _keys(_pages(ddb, {"TableName": name, **by_pk})) == [("c1", f"MSG#{n}") for n in range(3)]
    projected = _pages(ddb, {"TableName": name, "ProjectionExpression": "body.#t", **by_pk,
                             "ExpressionAttributeNames": {"#t": "text"}})
    assert projected[0]["Items"][0] == {"body": {"M": {"text": {"S": "hello 0"}}}}
    queued = _pages(ddb, {"TableName": name, "IndexName": "Queue", "KeyConditionExpression": "QPK = :q",
                          "ExpressionAttributeValues": {":q": {"S": "A"}}})
    assert queued[0]["Items"] == stored
    keys_only = _pages(ddb, {"TableName": name, "IndexName": "ByN", "KeyConditionExpression": "NPK = :n",
                             "ExpressionAttributeValues": {":n": {"N": "1"}}})
    assert sorted(keys_only[0]["Items"][0]) == ["NPK", "PK", "SK"]
    # Then no list of items was deep-copied, and every stored item is as it was written
    assert items_copied == []
    for item in stored:
        assert ddb.get_item(TableName=name, Key={"PK": item["PK"], "SK": item["SK"]})["Item"] == item


def test_a_gsi_query_follows_every_change_of_an_item(moto_endpoint):
    ddb = _client(moto_endpoint)
    name = "followed"
    _make_desk_table(ddb, name)

    def key(pk: str, sk: str = "META") -> dict[str, Any]:
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def queue(team: str, **more: Any) -> list[tuple[str, str]]:
        return _keys(_same_as_moto(ddb, TableName=name, IndexName="Queue", KeyConditionExpression="QPK = :q",
                                   ExpressionAttributeValues={":q": {"S": team}}, **more))

    def update(pk: str, expression: str, **values: str) -> None:
        ddb.update_item(TableName=name, Key=key(pk), UpdateExpression=expression,
                        ExpressionAttributeValues={f":{k}": {"S": v} for k, v in values.items()})

    # Given two waiting conversations of team A, found by the index (its map built here)
    for pk in ("c1", "c2"):
        ddb.put_item(TableName=name, Item={**key(pk), "QPK": {"S": "A"}, "QSK": {"S": f"1#{pk}"}})
    assert queue("A") == [("c1", "META"), ("c2", "META")]
    # When one moves to team B (changed in place by UpdateItem), then within B, then out of the sparse index
    update("c1", "SET QPK = :b", b="B")
    assert (queue("A"), queue("B")) == ([("c2", "META")], [("c1", "META")])
    update("c1", "SET QSK = :s", s="0#first")
    assert queue("B", ScanIndexForward=False) == [("c1", "META")]
    ddb.update_item(TableName=name, Key=key("c1"), UpdateExpression="REMOVE QPK")
    assert queue("B") == []
    # And an update that makes a new item puts it straight into the index
    update("c3", "SET QPK = :a, QSK = :s", a="A", s="2#c3")
    assert queue("A") == [("c2", "META"), ("c3", "META")]
    # And a put that replaces an item refiles it; a delete takes it out
    ddb.put_item(TableName=name, Item={**key("c2"), "QPK": {"S": "B"}, "QSK": {"S": "5"}})
    ddb.delete_item(TableName=name, Key=key("c3"))
    assert (queue("A"), queue("B")) == ([], [("c2", "META")])
    # And batch writes do both
    ddb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": {**key("c4"), "QPK": {"S": "A"}, "QSK": {"S": "4"}}}},
        {"PutRequest": {"Item": {**key("c5"), "QPK": {"S": "A"}}}},                  # no QSK: not in the index
        {"DeleteRequest": {"Key": key("c2")}}]})
    assert (queue("A"), queue("B")) == ([("c4", "META")], [])
    # And a transaction's put, update and delete all count
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {**key("c6"), "QPK": {"S": "B"}, "QSK": {"S": "6"}}}},
        {"Update": {"TableName": name, "Key": key("c5"), "UpdateExpression": "SET QPK = :b, QSK = :s",
                    "ExpressionAttributeValues": {":b": {"S": "B"}, ":s": {"S": "5"}}}},
        {"Delete": {"TableName": name, "Key": key("c4")}}])
    assert (queue("A"), queue("B")) == ([], [("c5", "META"), ("c6", "META")])
    # And a cancelled one is rolled back: what it moved, put and deleted is where it was
    try:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": name, "Key": key("c5"), "UpdateExpression": "SET QPK = :a",
                        "ExpressionAttributeValues": {":a": {"S": "A"}}}},
            {"Put": {"TableName": name, "Item": {**key("c7"), "QPK": {"S": "A"}, "QSK": {"S": "7"}}}},
            {"Delete": {"TableName": name, "Key": key("c6")}},
            {"ConditionCheck": {"TableName": name, "Key": key("c1"),           # c1 is there: cancelled
                                "ConditionExpression": "attribute_not_exists(PK)"}}])
        raise AssertionError("the transaction was not cancelled")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "TransactionCanceledException"
    assert (queue("A"), queue("B")) == ([], [("c5", "META"), ("c6", "META")])
    # And PartiQL's writes count too
    ddb.execute_statement(Statement="UPDATE \"followed\" SET QPK='A' WHERE PK='c6' AND SK='META'")
    assert (queue("A"), queue("B")) == ([("c6", "META")], [("c5", "META")])
    # And a table deleted and made again under its name answers for its new items only
    ddb.delete_table(TableName=name)
    _make_desk_table(ddb, name)
    assert queue("A") == [] and queue("B") == []
    ddb.put_item(TableName=name, Item={**key("c8"), "QPK": {"S": "A"}, "QSK": {"S": "8"}})
    assert queue("A") == [("c8", "META")]


def test_random_changes_leave_every_query_answered_exactly_as_moto_answers_it(moto_endpoint):
    """The same state queried both ways after every change of a random sequence (puts, updates that move items
    between, into and out of index partitions, deletes, batch writes, transactions, some cancelled)."""
    ddb = _client(moto_endpoint)
    name = "shuffled"
    _make_desk_table(ddb, name)
    rng = random.Random(20240611)
    pks, sks = [f"P{i}" for i in range(5)], [f"S{i:02d}" for i in range(12)]
    values = {"GPK": ["g0", "g1", "g2"], "QPK": ["q0", "q1"], "NPK": ["1", "1.0", "2", "3"]}
    outcomes: Counter[str] = Counter()

    def typed(attr: str, value: str) -> dict[str, str]:
        return {"N": value} if attr == "NPK" else {"S": value}

    def random_key() -> dict[str, Any]:
        return {"PK": {"S": rng.choice(pks)}, "SK": {"S": rng.choice(sks)}}

    def random_item(key: dict[str, Any]) -> dict[str, Any]:
        item = {**key, "n": {"N": str(rng.randrange(10))}}
        for attr, choices in values.items():
            if rng.random() < 0.6:
                item[attr] = typed(attr, rng.choice(choices))
        for attr in ("GSK", "QSK", "LSK"):
            if rng.random() < 0.7:
                item[attr] = {"S": f"r{rng.randrange(6)}"}
        return item

    def random_update() -> dict[str, Any]:
        sets, removes, bound = [], [], {}
        for attr in rng.sample([*values, "GSK", "QSK", "n"], rng.randint(1, 3)):
            if rng.random() < 0.3 and attr != "n":
                removes.append(attr)
            else:
                bound[f":{attr}"] = (typed(attr, rng.choice(values[attr])) if attr in values
                                     else {"N": "1"} if attr == "n" else {"S": f"r{rng.randrange(6)}"})
                sets.append(f"{attr} = :{attr}")
        expression = " ".join(part for part in (sets and "SET " + ", ".join(sets),
                                                 removes and "REMOVE " + ", ".join(removes)) if part)
        return {"UpdateExpression": expression, **({"ExpressionAttributeValues": bound} if bound else {})}

    def change() -> None:
        kind = rng.choice(["put", "put", "update", "update", "delete", "batch", "transact"])
        if kind == "put":
            ddb.put_item(TableName=name, Item=random_item(random_key()))
        elif kind == "update":
            ddb.update_item(TableName=name, Key=random_key(), **random_update())
        elif kind == "delete":
            ddb.delete_item(TableName=name, Key=random_key())
        else:
            keys = {(k["PK"]["S"], k["SK"]["S"]): k for k in (random_key() for _ in range(rng.randint(1, 5)))}
            if kind == "batch":
                ddb.batch_write_item(RequestItems={name: [
                    {"PutRequest": {"Item": random_item(k)}} if rng.random() < 0.6 else {"DeleteRequest": {"Key": k}}
                    for k in keys.values()]})
                return
            operations = []
            for k in keys.values():
                op = rng.choice(["Put", "Update", "Delete", "ConditionCheck"])
                if op == "Put":
                    operations.append({"Put": {"TableName": name, "Item": random_item(k)}})
                elif op == "Update":
                    operations.append({"Update": {"TableName": name, "Key": k, **random_update()}})
                elif op == "Delete":
                    operations.append({"Delete": {"TableName": name, "Key": k}})
                else:                                            # about half of these cancel the transaction
                    operations.append({"ConditionCheck": {"TableName": name, "Key": k,
                                                          "ConditionExpression": "attribute_exists(PK)"}})
            try:
                ddb.transact_write_items(TransactItems=operations)
                outcomes["committed"] += 1
            except ClientError as error:
                outcomes[error.response["Error"]["Code"]] += 1

    def random_query() -> dict[str, Any]:
        index = rng.choice([None, None, "ByG", "Queue", "ByN", "ByL"])
        hash_attr, range_attr = {None: ("PK", "SK"), "ByG": ("GPK", "GSK"), "Queue": ("QPK", "QSK"),
                                 "ByN": ("NPK", None), "ByL": ("PK", "LSK")}[index]
        choices = values.get(hash_attr, pks)
        bound = {":h": typed(hash_attr, rng.choice(choices))}
        condition = f"{hash_attr} = :h"
        if range_attr and rng.random() < 0.5:
            pivot = {"S": rng.choice(sks) if range_attr == "SK" else f"r{rng.randrange(6)}"}
            op = rng.choice(["<", "<=", ">", ">=", "begins_with", "between"])
            if op == "begins_with":
                condition += f" AND begins_with({range_attr}, :r)"
                pivot = {"S": pivot["S"][:2]}
            elif op == "between":
                condition += f" AND {range_attr} BETWEEN :r AND :z"
                bound[":z"] = {"S": "z"}
            else:
                condition += f" AND {range_attr} {op} :r"
            bound[":r"] = pivot
        query: dict[str, Any] = {"TableName": name, "KeyConditionExpression": condition,
                                 "ScanIndexForward": rng.random() < 0.5}
        if index:
            query["IndexName"] = index
        if rng.random() < 0.5:
            query["Limit"] = rng.randint(1, 4)
        if rng.random() < 0.3:
            query["FilterExpression"] = "n < :ten AND n > :low"
            bound.update({":ten": {"N": "10"}, ":low": {"N": str(rng.randrange(6))}})
        if rng.random() < 0.2 and index != "ByN":
            query["ProjectionExpression"] = "PK, SK, n"
        query["ExpressionAttributeValues"] = bound
        return query

    for _ in range(300):
        change()
        for _ in range(2):
            for page in _same_as_moto(ddb, **random_query()):
                outcomes["items"] += len(page.get("Items", ()))
                outcomes["refused"] += "Code" in page
    # Then every partition of every index, and of the table, still answers as moto does
    for index, hash_attr, _type, _range in _GSI:
        for value in values[hash_attr]:
            _same_as_moto(ddb, TableName=name, IndexName=index, KeyConditionExpression=f"{hash_attr} = :h",
                          ExpressionAttributeValues={":h": typed(hash_attr, value)})
    for pk in pks:
        _same_as_moto(ddb, TableName=name, KeyConditionExpression="PK = :h",
                      ExpressionAttributeValues={":h": {"S": pk}})
    # And the sequence did what it says: transactions both ways, queries that found things, few refused
    assert outcomes["committed"] > 10 and outcomes["TransactionCanceledException"] > 10, outcomes
    assert outcomes["items"] > 1000 and outcomes["refused"] < 30, outcomes
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(name)
    assert set(moto_patches._partitions[table]) == {"GPK", "QPK", "NPK"}          # the maps answered them


def test_items_records_and_messages_are_not_kept_forever_by_moto_for_its_dashboard():
    from moto.dynamodb.models.dynamo_type import Item
    from moto.sqs.models import Message

    moto_patches.apply()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        tracked = len(Item.instances_tracked), len(Message.instances_tracked)
        # When items are written and read many times, and messages sent
        for n in range(50):
            ddb.put_item(TableName="t", Item={"PK": {"S": f"k{n % 5}"}, "n": {"N": str(n)}})
            ddb.get_item(TableName="t", Key={"PK": {"S": f"k{n % 5}"}})
            sqs.send_message(QueueUrl=url, MessageBody=str(n))
        # Then moto answers as before, and lists none of them
        assert ddb.get_item(TableName="t", Key={"PK": {"S": "k4"}})["Item"]["n"] == {"N": "49"}
        assert int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"]) == 50
        assert (len(Item.instances_tracked), len(Message.instances_tracked)) == tracked


def test_a_fifo_group_in_flight_is_never_handed_to_a_second_long_poll_started_before_it(moto_endpoint):
    """Lambda's pollers long-poll one FIFO queue side by side: while one holds a group's message in flight, no
    other may receive a later message of that group, however long it has been waiting (moto judges a long
    poll's groups by what was in flight when the poll began)."""
    import threading
    import time

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    url = sqs.create_queue(QueueName="outbound-order.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    got: list[dict[str, Any]] = []

    def poll() -> None:
        got.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3).get("Messages", []))

    # Given two pollers waiting on an empty queue
    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for p in pollers:
        p.start()
    time.sleep(0.5)
    # When a conversation's first reply arrives (one poller takes it and holds it in flight), then its second
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="conv", MessageDeduplicationId="1")
    time.sleep(0.5)
    sqs.send_message(QueueUrl=url, MessageBody="second", MessageGroupId="conv", MessageDeduplicationId="2")
    for p in pollers:
        p.join()
    # Then only "first" was handed out: "second" waits while "first" is in flight
    assert [m["Body"] for m in got] == ["first"], got
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # and is handed out once "first" is done
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["second"]


def test_a_cancelled_transaction_leaves_no_record_on_the_table_s_stream(moto_endpoint):
    """DynamoDB writes nothing of a cancelled transaction to the stream; moto kept the records of the writes it made
    before the failing condition, and the stream's readers (the event lake, the search index, the live inbox)
    took a duplicate delivery's refused message as written. And an update that makes an item is one record."""
    local = {"region_name": "us-east-1", "endpoint_url": moto_endpoint, "aws_access_key_id": "testing",
             "aws_secret_access_key": "testing"}
    ddb = boto3.client("dynamodb", **local)
    name = "streamed"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                           {"AttributeName": "SK", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    marker = {"PK": {"S": "EXTMSG#twilio#SM1"}, "SK": {"S": "META"}}
    message = {"PK": {"S": "CONV#c1"}, "SK": {"S": "MSG#1"}, "text": {"S": "hello"}}

    def deliver(text: str) -> bool:
        try:       # the message first, its provider id's marker last: the second delivery fails on the marker
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": name, "Item": {**message, "SK": {"S": f"MSG#{text}"}, "text": {"S": text}}}},
                {"Update": {"TableName": name, "Key": {"PK": {"S": "CONV#c1"}, "SK": {"S": "META"}},
                            "UpdateExpression": "ADD message_count :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Put": {"TableName": name, "Item": marker, "ConditionExpression": "attribute_not_exists(PK)"}}])
            return True
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TransactionCanceledException"
            return False

    streams = boto3.client("dynamodbstreams", **local)
    arn = streams.list_streams(TableName=name)["Streams"][0]["StreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    # Given a message delivered, then delivered again (refused: its marker is there)
    assert deliver("first") and not deliver("again")
    # Then the stream holds the first delivery's three writes, once each, and nothing of the second: the update
    # that made the conversation is one INSERT of the whole item (moto recorded its bare keys first)
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["SK"]["S"]) for r in records] == [
        ("INSERT", "MSG#first"), ("INSERT", "META"), ("INSERT", "META")]
    assert records[1]["dynamodb"]["NewImage"]["message_count"] == {"N": "1"}
    # And the next write's record follows them, read once
    ddb.put_item(TableName=name, Item={**message, "SK": {"S": "MSG#later"}})
    later = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in later] == ["MSG#first", "META", "META", "MSG#later"]
    assert len({r["dynamodb"]["SequenceNumber"] for r in later}) == 4


def _tree(node: Any, seen: dict[int, int] | None = None) -> Any:
    """A parsed expression's tree as plain values: each node's class and attributes, its children's in order; a node
    met again (a child's parent) as the order it was first met in."""
    seen = {} if seen is None else seen
    if isinstance(node, list | tuple):
        return [_tree(n, seen) for n in node]
    if hasattr(node, "__dict__"):
        if id(node) in seen:
            return ("met", seen[id(node)])
        seen[id(node)] = len(seen)
        return (type(node).__name__, {k: _tree(v, seen) for k, v in vars(node).items()})
    return node


def test_an_update_expression_is_copied_by_pickling_into_the_same_tree_as_moto_s_deep_copy(moto_endpoint):
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    for expression in ("SET #a = :a, #b.#c[2] = if_not_exists(#d, :d) + :e, #f = list_append(#f, :g) "
                       "REMOVE #h, #i[0] ADD #version :one DELETE #s :members",
                       "SET a=:a", "REMOVE x.y[1].z"):
        parsed = UpdateExpressionParser.make.__wrapped__(expression)    # moto's parse (a tree read back is its own
        before = _tree(parsed)                                           # first copy: see the test further on)
        copied = validators.deepcopy(parsed)
        assert copied is not parsed and _tree(copied) == _tree(moto_patches.copy_module.deepcopy(parsed)) == before
        assert validators.deepcopy is not moto_patches.copy_module.deepcopy


def test_a_projection_converts_only_the_attributes_it_names_and_answers_as_moto_does(moto_endpoint, monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    rng = random.Random(7)

    def value(depth: int) -> dict[str, Any]:
        kind = rng.choice(["S", "N", "B", "BOOL", "SS", "NS", "L", "M"] if depth < 3 else ["S", "N", "BOOL"])
        if kind == "L":
            return {"L": [value(depth + 1) for _ in range(rng.randint(0, 3))]}
        if kind == "M":
            return {"M": {f"k{n}": value(depth + 1) for n in range(rng.randint(0, 3))}}
        return {kind: {"S": "text", "N": rng.choice(["1", "1.50", "-3", "1e2"]), "B": "AP8=", "BOOL": True,
                       "SS": ["a", "b"], "NS": ["1", "2.5"]}[kind]}

    paths = [["a0"], ["a1", "k0"], ["a2[1]"], ["a2[0]", "k1"], ["a3", "k0[0]"], ["missing"], ["a4", "k9"]]
    for _ in range(300):
        attrs = {"PK": {"S": "p"}, **{f"a{n}": value(0) for n in range(6)}}
        item = Item(DynamoType({"S": "p"}), None, attrs)
        chosen = rng.sample(paths, rng.randint(1, 4))
        try:
            expected = Item.project.__wrapped__(item, chosen).to_json()
        except Exception as error:       # moto's own fails on a path into a value that is no map or list: so does it
            with pytest.raises(type(error)):
                item.project(chosen)
            continue
        assert item.project(chosen).to_json() == expected, chosen
    # an item of thirty attributes projected to two of them converts those two, not thirty twice over
    wide = Item(DynamoType({"S": "p"}), None, {"PK": {"S": "p"}, **{f"f{n}": {"S": f"v{n}"} for n in range(30)}})
    converted: list[Any] = []
    to_regular_json = DynamoType.to_regular_json

    def counting(self: Any) -> Any:
        converted.append(self.value)
        return to_regular_json(self)

    monkeypatch.setattr(DynamoType, "to_regular_json", counting)
    assert wide.project([["f3"], ["f7"]]).to_json() == {"Attributes": {"f3": {"S": "v3"}, "f7": {"S": "v7"}}}
    assert sorted(converted) == ["v3", "v7"]


def test_an_update_expression_is_parsed_once_and_each_use_gets_its_own_tree(moto_endpoint, monkeypatch):
    from moto.dynamodb.parsing.expressions import ExpressionTokenizer, UpdateExpressionParser

    tokenized: list[str] = []
    make_list = ExpressionTokenizer.make_list

    def counting(expression: str) -> Any:
        tokenized.append(expression)
        return make_list(expression)

    monkeypatch.setattr(ExpressionTokenizer, "make_list", counting)
    expression = f"SET #a = :a, #b = if_not_exists(#b, :zero) + :one REMOVE #gone{random.randrange(10**9)}"
    first, second = UpdateExpressionParser.make(expression), UpdateExpressionParser.make(expression)
    assert tokenized == [expression]                                     # parsed once
    own = UpdateExpressionParser.make.__wrapped__(expression)
    assert first is not second and _tree(first) == _tree(second) == _tree(own)
    # a malformed one is refused every time, as moto refuses it
    for _ in range(2):
        with pytest.raises(Exception, match="Invalid UpdateExpression"):
            UpdateExpressionParser.make("SET = :a")
    # and updates through the server still do what they say, the same expression twice
    ddb = _client(moto_endpoint)
    ddb.create_table(TableName="parsed-once", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    for _ in range(2):
        ddb.update_item(TableName="parsed-once", Key={"PK": {"S": "k"}},
                        UpdateExpression="SET n = if_not_exists(n, :z) + :o",
                        ExpressionAttributeValues={":z": {"N": "0"}, ":o": {"N": "1"}})
    assert ddb.get_item(TableName="parsed-once", Key={"PK": {"S": "k"}})["Item"]["n"] == {"N": "2"}


def test_a_narrowed_query_measures_each_item_once(moto_endpoint, monkeypatch):
    from moto.dynamodb.models import dynamo_type

    ddb = _client(moto_endpoint)
    _make_desk_table(ddb, "measured")
    for n in range(5):
        ddb.put_item(TableName="measured", Item={"PK": {"S": "c1"}, "SK": {"S": f"MSG#{n}"}, "QPK": {"S": "A"},
                                                 "QSK": {"S": f"{n}"}, "text": {"S": "x" * n}})
    measured: list[str] = []                 # an item's measure counts its attributes' names: QSK once per item
    bytesize = dynamo_type.bytesize

    def counting(value: str) -> int:
        measured.append(value)
        return bytesize(value)

    monkeypatch.setattr(dynamo_type, "bytesize", counting)
    page = ddb.query(TableName="measured", KeyConditionExpression="PK = :p", ExpressionAttributeValues={
        ":p": {"S": "c1"}}, Limit=3)
    assert [i["SK"]["S"] for i in page["Items"]] == ["MSG#0", "MSG#1", "MSG#2"] and "LastEvaluatedKey" in page
    assert measured.count("QSK") == 4       # three taken and the one that ended the page, once each (moto: 7)


def test_a_handler_s_method_names_are_listed_once_and_again_when_its_class_changes(moto_endpoint, monkeypatch):
    import inspect

    from moto.core import responses, utils
    from moto.dynamodb.responses import DynamoHandler

    listed: list[Any] = []
    getmembers = inspect.getmembers

    def counting(*args: Any, **kwargs: Any) -> Any:
        listed.append(args[0])
        return getmembers(*args, **kwargs)

    monkeypatch.setattr(inspect, "getmembers", counting)
    ddb = _client(moto_endpoint)
    ddb.create_table(TableName="listed-once", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    # When a handler serves many requests
    for n in range(5):
        ddb.put_item(TableName="listed-once", Item={"PK": {"S": f"k{n}"}})
        assert ddb.get_item(TableName="listed-once", Key={"PK": {"S": f"k{n}"}})["Item"] == {"PK": {"S": f"k{n}"}}
    # Then its class's methods were listed once at most (moto: at every request)
    assert listed.count(DynamoHandler) <= 1
    # And the list is moto's, and follows a method added to or taken from the class (a subclass's too)
    assert responses.method_names_from_class(DynamoHandler) == utils.method_names_from_class(DynamoHandler)
    monkeypatch.setattr(DynamoHandler, "made_up_action", lambda self: "{}", raising=False)
    assert "made_up_action" in responses.method_names_from_class(DynamoHandler)
    monkeypatch.delattr(DynamoHandler, "made_up_action")
    assert responses.method_names_from_class(DynamoHandler) == utils.method_names_from_class(DynamoHandler)
    monkeypatch.setattr(responses.BaseResponse, "made_up_base_action", lambda self: "{}", raising=False)
    assert "made_up_base_action" in responses.method_names_from_class(DynamoHandler)


def _validated(expression: str, names: dict[str, str], values: dict[str, Any]) -> Any:
    """moto's validation of an update expression against an item: the tree it hands the executor, or its refusal."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    table = Table("checked", account_id="123456789012", region="us-east-1",
                  schema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                  attr=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    item = Item(DynamoType({"S": "p"}), DynamoType({"S": "META"}),
                {"PK": {"S": "p"}, "SK": {"S": "META"}, "a": {"M": {"b": {"N": "1"}}}, "l": {"L": [{"S": "x"}]},
                 "n": {"N": "2"}, "s": {"SS": ["x", "y"]}})
    try:
        tree = UpdateExpressionValidator(UpdateExpressionParser.make(expression), expression_attribute_names=names,
                                         expression_attribute_values=values, item=item, table=table).validate()
    except Exception as error:
        return ("refused", type(error).__name__, str(error))
    return _tree(tree)


def test_the_clause_and_overlap_checks_run_once_on_the_whole_tree_and_answer_as_moto_s_walk(moto_endpoint,
                                                                                           monkeypatch):
    from moto.dynamodb.parsing import validators

    names = {f"#f{n}": f"f{n}" for n in range(20)} | {"#a": "a", "#b": "b", "#l": "l", "#n": "n", "#s": "s"}
    values = {f":v{n}": {"S": f"v{n}"} for n in range(20)} | {":one": {"N": "1"}, ":zero": {"N": "0"},
                                                             ":more": {"L": [{"S": "y"}]}, ":m": {"SS": ["x"]}}
    twenty = ", ".join(f"#f{n} = :v{n}" for n in range(20))
    cases = [
        (f"SET {twenty}, #n = if_not_exists(#n, :zero) + :one, #l = list_append(#l, :more) REMOVE #b", names, values),
        ("SET #a.#b = :one, #l[0] = :v1 ADD #n :one DELETE #s :m", names, values),
        ("REMOVE #a.#b, #l[0]", names, values),
        ("SET #f1 = :v1 SET #f2 = :v2", names, values),             # two SET clauses
        ("REMOVE #f1 ADD #n :one REMOVE #f2", names, values),        # two REMOVE clauses
        ("ADD #n :one ADD #f1 :one SET #f2 = :v2 SET #f3 = :v3", names, values),  # two of each: which is named
        ("SET #f1 = :v1, #f1 = :v2", names, values),                  # the same path twice
        ("SET #a.#b = :v1, #a = :v2", names, values),                 # moto accepts it: a lone name is only
        #                                                               compared with lone names
        ("SET a.b = :v1 REMOVE a", names, values),
        ("SET #f1 = :v1 REMOVE #f1", names, values),
        ("SET #undeclared = :v1, #f2 = :v2", names, values),          # a name that is not given
        ("SET #f1 = :undeclared", names, values),
        ("SET PK = :v1", names, values),                              # a key attribute
    ]
    patched = {cls: cls.traverse for cls in (validators.ActionCountValidator, validators.OverlappingPathsValidator)}
    answers = [_validated(*case) for case in cases]
    for cls, traverse in patched.items():
        monkeypatch.setattr(cls, "traverse", traverse.__wrapped__)   # moto's own walk, node by node
    assert [_validated(*case) for case in cases] == answers
    assert [a[1] for a in answers if a[0] == "refused"] == [
        "TooManyClauses", "TooManyClauses", "TooManyClauses", "DuplicateUpdateExpression",
        "DuplicateUpdateExpression", "DuplicateUpdateExpression", "KeyError", "ExpressionAttributeValueNotDefined",
        "UpdateHashRangeKeyException"]
    # and the whole tree is gathered once per check, not at every expression node as moto gathers it
    monkeypatch.undo()
    from moto.dynamodb.parsing.ast_nodes import Node
    gathered: list[Any] = []
    find_clauses = Node.find_clauses

    def counting(self: Any, clause_types: Any) -> Any:
        gathered.append(self)
        return find_clauses(self, clause_types)

    monkeypatch.setattr(Node, "find_clauses", counting)
    _validated(cases[0][0], names, values)
    assert len(gathered) < 30                  # moto's walk: 4,606 for this expression


def test_an_item_is_measured_once_when_made_and_refused_exactly_where_moto_refuses_it(moto_endpoint, monkeypatch):
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    def made(attrs: dict[str, Any], init: Any) -> Any:
        item = Item.__new__(Item)
        try:
            init(item, DynamoType({"S": "p"}), None, attrs)
        except Exception as error:
            return ("refused", type(error).__name__, str(error))
        return (type(item.attrs).__name__, [(k, type(v).__name__, v.to_json()) for k, v in item.attrs.items()])

    def attrs_of(total: int) -> dict[str, Any]:
        """An item whose names and values measure exactly ``total`` bytes ("PK" + "p", then f0..f9 of text)."""
        left, out = total - 3, {"PK": {"S": "p"}}
        for n in range(10):
            size = left // (10 - n)
            out[f"f{n}"] = {"S": "x" * (size - 2)}
            left -= size
        return out

    rng = random.Random(11)
    cases = [attrs_of(405000), attrs_of(405001), attrs_of(500000), {"PK": {"S": "p"}, "bad": {}},
             {"PK": {"S": "p"}, "big": {"S": "y" * 406000}, "bad": {}},       # over the limit first
             {"PK": {"S": "p"}, "bad": {}, "big": {"S": "y" * 406000}}, {}]
    for _ in range(100):
        cases.append({f"a{n}": rng.choice([{"S": "t" * rng.randint(0, 50)}, {"N": "1.5"}, {"BOOL": False},
                                           {"M": {"k": {"L": [{"N": "2"}, {"SS": ["a", "b"]}]}}}, {"NULL": True},
                                           {"B": b"\x00\xff"}])
                      for n in range(rng.randint(0, 40))})
    answers = [made(case, Item.__init__) for case in cases]
    assert [made(case, Item.__init__.__wrapped__) for case in cases] == answers      # moto's own, set by set
    assert answers[0][0] == "LimitedSizeDict" and answers[1][:2] == answers[2][:2] == ("refused", "ItemSizeTooLarge")
    assert answers[4][1] == "ItemSizeTooLarge" and answers[3][0] == answers[5][0] == "refused"
    # and the item is measured once, not once per attribute set
    measured: list[str] = []
    bytesize = dynamo_type.bytesize

    def counting(value: str) -> int:
        measured.append(value)
        return bytesize(value)

    monkeypatch.setattr(dynamo_type, "bytesize", counting)
    Item(DynamoType({"S": "p"}), None, {f"f{n}": {"S": "v"} for n in range(40)})
    assert measured.count("f0") == 1                   # moto's sets: 40, one for each attribute set after it


def test_a_condition_is_split_into_tokens_once_and_each_parse_answers_as_moto_s_own(moto_endpoint, monkeypatch):
    from moto.dynamodb.comparisons import ConditionExpressionParser, create_condition_expression_parser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    names = {"#s": "status", "#v": "version", "#t": "tags", "#m": "meta"}
    items = [Item(DynamoType({"S": "p"}), None, attrs) for attrs in (
        {"PK": {"S": "p"}, "status": {"S": "open"}, "version": {"N": "2"}, "tags": {"SS": ["x"]}},
        {"PK": {"S": "p"}, "status": {"S": "closed"}, "version": {"N": "7"}, "meta": {"M": {"a": {"L": []}}}},
        {"status": {"S": "open"}})]
    expressions = [
        "attribute_exists(PK) AND (#s = :a OR #v < :b) AND NOT contains(#t, :c)",
        "attribute_not_exists(PK)", "#v BETWEEN :b AND :d", "#s IN (:a, :c)", "size(#t) >= :one",
        "#m.a[0] = :a OR begins_with(#s, :a)", "#v <> :b", "(#s = :a)", "  #s   =   :a  ",
        "#s = :a AND", "#s = = :a", "#s = :a %", "", None]
    value_sets = [{":a": {"S": "open"}, ":b": {"N": "3"}, ":c": {"S": "x"}, ":d": {"N": "9"}, ":one": {"N": "1"}},
                  {":a": {"S": "closed"}, ":b": {"N": "8"}, ":c": {"S": "y"}, ":d": {"N": "7"}, ":one": {"N": "0"}}]

    def parsed() -> list[Any]:
        answers = []
        for _ in range(2):                       # each expression twice: the second from the kept tokens
            for expression in expressions:
                for values in value_sets:
                    try:
                        op = create_condition_expression_parser(expression, names, values).parse()
                        answers.append((repr(op), [op.expr(item) for item in items]))
                    except Exception as error:
                        answers.append(("refused", type(error).__name__, str(error)))
        return answers

    lexed: list[str] = []
    lex_one = ConditionExpressionParser._lex_one_node

    def counting(self: Any, remaining: str) -> Any:
        lexed.append(remaining)
        return lex_one(self, remaining)

    monkeypatch.setattr(ConditionExpressionParser, "_lex_one_node", counting)
    answers = parsed()
    splits = len(lexed)
    lex_once = ConditionExpressionParser._lex_condition_expression
    monkeypatch.setattr(ConditionExpressionParser, "_lex_condition_expression", lex_once.__wrapped__)
    assert parsed() == answers                                              # moto's own lexer at every parse
    # a text the lexer cannot split is refused at every parse, the second round's too
    assert sum(1 for a in answers if a[0] == "refused" and "Cannot parse condition starting at:%" in a[2]) == 4
    assert splits < len(lexed) - splits                                  # the kept tokens: moto's lexer ran less
    # and the tokens a parse gets are its own: changing them changes no later parse
    monkeypatch.setattr(ConditionExpressionParser, "_lex_condition_expression", lex_once)
    first = create_condition_expression_parser("#s = :a", names, value_sets[0])._lex_condition_expression()
    first[0].children.append("changed")
    again = create_condition_expression_parser("#s = :a", names, value_sets[0])._lex_condition_expression()
    assert [n.children for n in again] == [[], [], []] and list(again) != list(first)


def _updates_answered(endpoint: str, name: str) -> list[Any]:
    """Updates of every kind on a fresh streamed table, through the server: each answer's status and raw body, then
    the items and the stream's images they left."""
    local = {"region_name": "us-east-1", "endpoint_url": endpoint, "aws_access_key_id": "testing",
             "aws_secret_access_key": "testing"}
    ddb = boto3.client("dynamodb", **local)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                           {"AttributeName": "SK", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    answers: list[Any] = []
    for operation in ("UpdateItem", "TransactWriteItems"):
        ddb.meta.events.register(f"after-call.dynamodb.{operation}", lambda http_response, **_: answers.append(
            (http_response.status_code, http_response.content)))
    names = {"#a": "a", "#n": "n", "#l": "l", "#s": "s", "#m": "m", "#x": "x", "#t": "text"}
    values = {":a": {"S": "A"}, ":zero": {"N": "0"}, ":one": {"N": "1"}, ":more": {"L": [{"S": "y"}]},
              ":empty": {"L": []}, ":set": {"SS": ["p", "q"]}, ":p": {"SS": ["p"]}, ":t": {"S": "hello"}}

    def update(key: str, expression: str, **extra: Any) -> None:
        used = {k: v for k, v in values.items() if k in expression or k in extra.get("ConditionExpression", "")}
        with contextlib.suppress(ClientError):
            ddb.update_item(TableName=name, Key={"PK": {"S": key}, "SK": {"S": "META"}}, UpdateExpression=expression,
                            ExpressionAttributeNames={k: v for k, v in names.items() if k in expression
                                                      or k in extra.get("ConditionExpression", "")},
                            ExpressionAttributeValues=used, **extra)

    make = "SET #a = :a, #n = if_not_exists(#n, :zero) + :one, #l = list_append(if_not_exists(#l, :empty), :more)"
    for round_ in range(2):                 # each expression twice: the second read back from its kept pickle
        for return_values in ("ALL_NEW", "UPDATED_OLD"):
            update(f"new{round_}{return_values}", make, ReturnValues=return_values)   # makes the item: two validations
            update("c1", make, ReturnValues=return_values)                            # updates it
        update("c1", "ADD #s :set, #n :one SET #t = :t", ReturnValues="UPDATED_NEW")
        update("c1", "DELETE #s :p REMOVE #l[0]", ReturnValues="ALL_OLD")
        update("c1", "SET PK = :a")                                                  # refused: a key attribute
        update("c1", "ADD #a :one")                                                  # refused: a string
        update("c1", "SET #m.#x = :a")                                               # refused: no such map
        update(f"gone{round_}", "SET #m.#x = :a")                  # refused by the first of two validations
        update("c1", make, ConditionExpression="#n < :one",
               ReturnValuesOnConditionCheckFailure="ALL_OLD")       # refused: the item is answered
        for refused in (False, True):
            with contextlib.suppress(ClientError):
                ddb.transact_write_items(TransactItems=[
                    {"Update": {"TableName": name, "Key": {"PK": {"S": f"t{round_}"}, "SK": {"S": "META"}},
                                "UpdateExpression": "SET #a = :a ADD #n :one", "ExpressionAttributeNames":
                                    {"#a": "a", "#n": "n"}, "ExpressionAttributeValues": {":a": {"S": "A"},
                                                                                          ":one": {"N": "1"}}}},
                    {"Update": {"TableName": name, "Key": {"PK": {"S": "c1"}, "SK": {"S": "META"}},
                                "UpdateExpression": "SET #t = :t", "ExpressionAttributeNames": {"#t": "text"},
                                "ExpressionAttributeValues": {":t": {"S": "hello"}},
                                **({"ConditionExpression": "attribute_not_exists(PK)"} if refused else {})}}])
    items = ddb.scan(TableName=name)["Items"]
    streams = boto3.client("dynamodbstreams", **local)
    arn = streams.list_streams(TableName=name)["Streams"][0]["StreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    images = [(r["eventName"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"))
              for r in streams.get_records(ShardIterator=iterator)["Records"]]
    ddb.delete_table(TableName=name)
    return [answers, sorted(items, key=lambda i: i["PK"]["S"]), images]


def test_a_validator_copies_a_tree_read_back_by_taking_it_and_updates_answer_byte_for_byte_as_with_moto_s_copy(
        moto_endpoint, monkeypatch):
    """moto's validator deep-copies the tree of every update it validates; a tree read back from the kept pickle and
    not changed since is its own first copy, and a second validation of it (an update that makes the item) gets the
    pickle read back again."""
    import pickle

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    expression = f"SET #a = :a, #b = if_not_exists(#b, :zero) + :one REMOVE #c{random.randrange(10**9)}"
    UpdateExpressionParser.make(expression)                       # parsed, and its pickle kept
    tree = UpdateExpressionParser.make(expression)                # read back
    pristine = _tree(tree)
    assert validators.deepcopy(tree) is tree                      # the first copy: the tree itself
    tree.children.clear()                                         # (the validator works on what it copied)
    again = validators.deepcopy(tree)
    assert again is not tree and _tree(again) == pristine         # a later copy: the tree as parsed
    assert _tree(validators.deepcopy(again)) == pristine          # a tree not read back: copied by pickling
    # Given updates of every kind, each validated tree counted as pickled
    pickled: list[str] = []
    dumps = pickle.dumps

    def counting(value: Any, *args: Any, **kwargs: Any) -> bytes:
        pickled.append(type(value).__name__)
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr(pickle, "dumps", counting)
    answers = _updates_answered(moto_endpoint, "validated")
    pickled_by_patch = list(pickled)
    # When the same run goes through moto's own deep copy of each tree
    monkeypatch.setattr(validators, "deepcopy", moto_patches.copy_module.deepcopy)
    own = _updates_answered(moto_endpoint, "validated")
    # Then every answer is the same to the byte, and so are the items and the stream's images
    assert answers[0] == own[0]
    assert answers[1:] == own[1:]
    statuses = [status for status, _ in answers[0]]
    assert statuses.count(400) >= 10 and statuses.count(200) >= 10
    assert len(answers[2]) > 10
    # And no tree was pickled for a validator: only each new expression's once, to keep it
    assert len(pickled_by_patch) <= 8, pickled_by_patch


def _every_return_value_answered(endpoint: str, name: str) -> list[Any]:
    """UpdateItem with every ReturnValues, on new and old items, refused ones too: each answer's status and raw body,
    then the items left."""
    ddb = _client(endpoint)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                           {"AttributeName": "SK", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    answers: list[Any] = []
    ddb.meta.events.register("after-call.dynamodb.UpdateItem", lambda http_response, **_: answers.append(
        (http_response.status_code, http_response.content)))
    ddb.put_item(TableName=name, Item={"PK": {"S": "old"}, "SK": {"S": "META"}, "a": {"S": "before"},
                                       "m": {"M": {"x": {"L": [{"N": "1"}, {"B": b"\x00\xff"}]}}},
                                       "s": {"SS": ["p", "q"]}, "gone": {"BOOL": True}})
    values = {":a": {"S": "after"}, ":zero": {"N": "0"}, ":one": {"N": "1"}, ":x": {"L": [{"N": "1"}]}}
    for return_values in (None, "NONE", "ALL_NEW", "ALL_OLD", "UPDATED_OLD", "UPDATED_NEW", "BOGUS"):
        returned = {} if return_values is None else {"ReturnValues": return_values}
        for pk, expression, extra in (
                (f"new{return_values}", "SET a = :a, n = if_not_exists(n, :zero) + :one", {}),   # makes the item
                ("old", "SET a = :a, n = if_not_exists(n, :zero) + :one, m.x = :x REMOVE gone", {}),
                ("old", "SET a = :a", {"ConditionExpression": "attribute_not_exists(PK)",       # refused, old item
                                       "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
                ("old", "SET PK = :a", {}),                                                    # refused: a key
                (None, "SET a = :a", {})):                                                     # no such key
            key = {"PK": {"S": "old"}} if pk is None else {"PK": {"S": pk}, "SK": {"S": "META"}}
            used = {k: v for k, v in values.items() if k in expression}
            with contextlib.suppress(ClientError):
                ddb.update_item(TableName=name, Key=key, UpdateExpression=expression, ExpressionAttributeValues=used,
                                **returned, **extra)
    items = sorted(ddb.scan(TableName=name)["Items"], key=lambda i: i["PK"]["S"])
    ddb.delete_table(TableName=name)
    return [answers, items]


def test_an_update_answered_without_old_values_copies_no_old_item_and_answers_byte_for_byte_as_moto(moto_endpoint,
                                                                                                    monkeypatch):
    """moto's UpdateItem handler deep-copies the old item at every update, for the answers that hold old values."""
    import moto.dynamodb.responses as responses
    from moto.dynamodb.models.dynamo_type import Item

    copied: list[str] = []
    item_copy = Item.__deepcopy__

    def counting(self: Any, memo: Any) -> Any:
        copied.append(self.hash_key.value)
        return item_copy(self, memo)

    monkeypatch.setattr(Item, "__deepcopy__", counting)
    answers = _every_return_value_answered(moto_endpoint, "returned")
    ddb = _client(moto_endpoint)
    ddb.create_table(TableName="copies", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}])
    ddb.put_item(TableName="copies", Item={"PK": {"S": "c"}, "a": {"S": "x"}})
    copied.clear()
    # When an existing item is updated answering nothing, the new item, and the old one
    for returned in ({}, {"ReturnValues": "NONE"}, {"ReturnValues": "ALL_NEW"}, {"ReturnValues": "ALL_OLD"}):
        ddb.update_item(TableName="copies", Key={"PK": {"S": "c"}}, UpdateExpression="SET a = :a",
                        ExpressionAttributeValues={":a": {"S": "y"}}, **returned)
    # Then the first three copy it once (moto's backend keeps its own copy of the item as it was), the last twice
    assert copied == ["c"] * 5
    # And with moto's own handler every answer and item is the same, to the byte
    monkeypatch.setattr(responses.DynamoHandler, "update_item", responses.DynamoHandler.update_item.__wrapped__)
    monkeypatch.setattr(responses, "copy", moto_patches.copy_module)
    own = _every_return_value_answered(moto_endpoint, "returned")
    assert answers[0] == own[0]
    assert answers[1] == own[1]
    statuses = [status for status, _ in answers[0]]
    assert len(statuses) == 35 and statuses.count(200) == 12
    assert any(b'"Attributes"' in body for status, body in answers[0] if status == 200)


def test_plain_attribute_values_are_written_as_they_are_and_every_answer_is_moto_s_to_the_byte(moto_endpoint,
                                                                                               monkeypatch):
    """moto's serialiser walks every attribute value of a write's answer against the service model; a plain one is
    written as it is, anything else moto's way, and the answers are the same bytes."""
    from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    rng = random.Random(11)
    texts = ["", "a", "é \u202e \"quoted\" \\ \n", "1.50", "-3", "1e2", "😀"]

    def value(depth: int) -> Any:
        kinds = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M", "odd"]
        kind = rng.choice(kinds if depth < 3 else kinds[:8])
        if kind == "L":
            return {"L": [value(depth + 1) for _ in range(rng.randint(0, 3))]}
        if kind == "M":
            return {"M": {rng.choice(texts) + str(n): value(depth + 1) for n in range(rng.randint(0, 3))}}
        if kind == "odd":          # two types, a number as a number, an unknown member: moto's way
            return rng.choice([{"S": "a", "N": "1"}, {"N": 5}, {"X": "y"}, {}, {"SS": ["a", 1]}, {"BOOL": 1}])
        return {kind: {"S": rng.choice(texts), "N": rng.choice(["1", "1.50", "-3", "1e2"]),
                       "B": rng.choice([b"\x00\xff", "AP8="]), "BOOL": rng.choice([True, False]), "NULL": True,
                       "SS": rng.sample(texts, 2), "NS": ["1", "2.5"], "BS": [b"\x01", b"x"]}[kind]}

    class _Handler(DynamoHandler):
        action = "UpdateItem"

        def _get_action(self) -> str:
            return self.action

    handler = _Handler()
    handler.headers = {"Content-Type": "application/x-amz-json-1.0"}
    patched = BaseJSONSerializer._serialize_type_structure
    answers = []
    for n in range(300):
        item = {"PK": {"S": f"p{n}"}, **{f"a{i}": value(0) for i in range(rng.randint(0, 6))}}
        for action, result in (
                ("UpdateItem", {"Attributes": item, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}),
                ("PutItem", {"Attributes": item}),
                ("DeleteItem", {"Attributes": item, "ConsumedCapacityUnits": 0.5}),
                ("BatchWriteItem", {"UnprocessedItems": {"t": [{"PutRequest": {"Item": item}}]}}),
                ("ExecuteStatement", {"Items": [item, item]})):
            handler.action = action
            handler.response_headers = {"server": "amazon.com"}
            try:
                mine = handler.serialized(DynamoResult(result))
            except Exception as error:                 # moto's own refuses it too, the same way
                mine = ("refused", type(error).__name__, str(error))
            monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched.__wrapped__)
            handler.response_headers = {"server": "amazon.com"}
            try:
                own = handler.serialized(DynamoResult(result))
            except Exception as error:
                own = ("refused", type(error).__name__, str(error))
            monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched)
            assert mine == own, (action, item)
            answers.append(mine)
    assert sum(1 for a in answers if a[0] == "refused") < len(answers) / 10
    # and through the server, updates answering every ReturnValues, the same bytes as moto's own serialiser writes
    through_server = _every_return_value_answered(moto_endpoint, "written")
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched.__wrapped__)
    assert _every_return_value_answered(moto_endpoint, "written") == through_server
    # and an item of forty plain attributes is written without moto's walk through its members
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched)
    walked: list[str] = []
    pick = XFormedAttributePicker.__call__
    monkeypatch.setattr(XFormedAttributePicker, "__call__", lambda self, context: walked.append(context.key) or pick(
        self, context))
    handler.action = "UpdateItem"
    plain = {"PK": {"S": "p"}, **{f"f{n}": {"M": {"x": {"S": "v"}, "n": {"N": str(n)}}} for n in range(40)}}
    handler.serialized(DynamoResult({"Attributes": plain}))
    assert walked == ["Attributes", "ConsumedCapacity", "ItemCollectionMetrics"]
