"""The local stack reads a table's stream once for all the mappings of a shard (local/streams.py)."""

from __future__ import annotations

from typing import Any

from local.streams import ShardReader


class FakeStreams:
    """A shard that gains records between reads, as a table's stream does."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.reads = 0

    def get_shard_iterator(self, **_: Any) -> dict[str, str]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.reads += 1
        start = int(ShardIterator)
        found = self.records[start:start + Limit]
        return {"Records": found, "NextShardIterator": str(start + len(found))}

    def write(self, n: int) -> None:
        for _ in range(n):
            k = len(self.records)
            self.records.append({"eventID": f"e{k}", "eventName": "INSERT", "awsRegion": "us-east-1",
                                 "dynamodb": {"SequenceNumber": str(k), "Keys": {"PK": {"S": f"K{k}"}}}})


class FakeAws:
    def __init__(self, streams: FakeStreams) -> None:
        self.streams = streams

    def client(self, name: str) -> FakeStreams:
        assert name == "dynamodbstreams"
        return self.streams


def test_every_mapping_gets_every_record_once_in_order_from_one_read():
    # Given three mappings of one shard and five records written
    streams = FakeStreams()
    reader = ShardReader("arn:stream", "shard-1", "TRIM_HORIZON", FakeAws(streams))
    a, b, c = reader.subscribe(), reader.subscribe(), reader.subscribe()
    streams.write(5)
    # When each reads
    got_a, asked_a = reader.read(a)
    got_b, asked_b = reader.read(b)
    got_c, asked_c = reader.read(c)
    # Then one GetRecords served all three, each got the five records in order, as Lambda's event carries them
    assert streams.reads == 1
    for got in (got_a, got_b, got_c):
        assert [r["dynamodb"]["SequenceNumber"] for r in got] == ["0", "1", "2", "3", "4"]
        assert got[0]["eventSourceARN"] == "arn:stream" and got[0]["eventSource"] == "aws:dynamodb"
    # And only the one that made the read knows when it was made (the others' came from their buffers)
    assert asked_a is not None and asked_b is None and asked_c is None


def test_a_slow_mapping_keeps_what_the_fast_ones_read_and_is_caught_up_only_by_its_own_empty_read():
    streams = FakeStreams()
    reader = ShardReader("arn:stream", "shard-1", "LATEST", FakeAws(streams))
    fast, slow = reader.subscribe(), reader.subscribe()
    streams.write(2)
    assert len(reader.read(fast)[0]) == 2
    streams.write(3)
    assert len(reader.read(fast)[0]) == 3
    # the slow mapping gets all five, in order, without a read of its own
    records, asked = reader.read(slow)
    assert [r["eventID"] for r in records] == ["e0", "e1", "e2", "e3", "e4"] and asked is None
    # and then reads for itself: nothing new, and now it knows when it looked
    records, asked = reader.read(slow)
    assert records == [] and asked is not None
    # nothing was handed twice
    assert reader.read(fast)[0] == []


def test_an_answer_is_walked_for_binary_values_only_when_it_holds_one():
    from local.streams import _BINARY

    assert _BINARY.search(b'{"Records": [{"dynamodb": {"NewImage": {"v": {"B": "AAH/"}}}}]}')
    assert _BINARY.search(b'{"k": {"BS":["AA=="]}}')
    assert not _BINARY.search(b'{"ok": {"BOOL": true}, "t": {"S": "a \\"B\\": b"}, "n": {"N": "1"}}')


def test_a_read_that_reached_the_end_answers_every_mapping_that_asks_within_a_poll(monkeypatch):
    from local import streams as module

    now = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    streams = FakeStreams()
    reader = ShardReader("arn:stream", "shard-1", "LATEST", FakeAws(streams))
    a, b, c = reader.subscribe(), reader.subscribe(), reader.subscribe()
    # Given a read by one mapping that found nothing
    assert reader.read(a) == ([], 100.0)
    # When the others ask within the same poll interval
    now[0] += module.POLL_SECONDS / 2
    # Then that read answers them (nothing new as of when it started), and no GetRecords more is made
    assert reader.read(b) == ([], 100.0) and reader.read(c) == ([], 100.0)
    assert streams.reads == 1
    # And a record written meanwhile is read by the first mapping to ask once the interval is over, for all
    streams.write(1)
    now[0] += module.POLL_SECONDS / 2
    records, asked = reader.read(b)
    assert [r["eventID"] for r in records] == ["e0"] and asked == now[0] and streams.reads == 2
    # And that read, which found one record and so reached the end, answers the others after their buffers
    assert [r["eventID"] for r in reader.read(a)[0]] == ["e0"] and [r["eventID"] for r in reader.read(c)[0]] == ["e0"]
    streams.write(1)
    assert reader.read(a) == ([], now[0]) and reader.read(c) == ([], now[0]) and streams.reads == 2
    # And a mapping's own read never answers it again: asking at once reads the shard
    records, asked = reader.read(b)
    assert [r["eventID"] for r in records] == ["e1"] and streams.reads == 3
    # And a read that stopped at its limit answers no one: there may be more
    monkeypatch.setattr(module, "READ_LIMIT", 2)
    streams.write(3)
    now[0] += module.POLL_SECONDS
    assert len(reader.read(b)[0]) == 2 and streams.reads == 4
    assert [r["eventID"] for r in reader.read(a)[0]] == ["e1", "e2", "e3"]       # its buffer: e1, then the two
    assert [r["eventID"] for r in reader.read(a)[0]] == ["e4"] and streams.reads == 5
