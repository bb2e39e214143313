"""A record that fails in a queue or stream consumer leaves a trace: one scrubbed log line with its cause and ids,
and a RecordsFailed figure the operations alarm reads (shopdesk.batch)."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from shopdesk.batch import fifo_processor, stream_processor
from shopdesk.logs import logger_for
from tests.support import ROOT, FakeContext


class Context(FakeContext):
    function_name = "shopdesk-prod-DispatcherFunction-AbC123"


class Later(Exception):
    """A consumer's own "try again later" (the dispatcher's RetryLater)."""


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    return logger_for(service=f"batch-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(stream)), stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _figures(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def _sqs(message_id: str, body: str, group: str, receives: int = 1) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body, "md5OfBody": "",
            "attributes": {"MessageGroupId": group, "ApproximateReceiveCount": str(receives)},
            "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:shopdesk-prod-outbound.fifo"}


def _stream(event_id: str, sequence: str) -> dict[str, Any]:
    return {"eventID": event_id, "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"Keys": {"PK": {"S": "CONV#c_1"}, "SK": {"S": "META"}}, "SequenceNumber": sequence,
                         "NewImage": {"PK": {"S": "CONV#c_1"}, "customer_name": {"S": "Anna de Vries"}}}}


def test_a_poison_body_on_a_fifo_queue_is_logged_with_its_cause_and_ids_and_counted(capsys):
    logger, stream = _logger()
    processor = fifo_processor(logger)
    event = {"Records": [_sqs("m-ok", '{"n": 1}', "c_1"), _sqs("m-poison", "{not json", "c_2", receives=4)]}

    def handle(record):
        return json.loads(record.body)

    result = process_partial_response(event=event, record_handler=handle, processor=processor, context=Context())

    assert result["batchItemFailures"] == [{"itemIdentifier": "m-poison"}]
    [line] = [x for x in _lines(stream) if x["level"] == "WARNING"]
    assert line["message"] == "record failed: JSONDecodeError"
    assert line["error_type"] == "json.decoder.JSONDecodeError" and "Expecting property name" in line["error"]
    assert (line["message_id"], line["message_group_id"], line["receive_count"]) == ("m-poison", "c_2", 4)
    assert "{not json" not in json.dumps(line)                  # the body is never logged
    assert "Traceback" in line["exception"]                     # where it broke, for the on-call
    figures = {tuple(sorted(set(f) - {"_aws", "RecordsFailed", "service"})): f
               for f in _figures(capsys.readouterr().out) if "RecordsFailed" in f}
    assert figures[("function",)]["function"] == Context.function_name
    assert figures[()]["RecordsFailed"] in (1.0, [1.0])          # in all: what the alarm reads


def test_customer_data_in_the_exception_is_scrubbed_like_every_line():
    logger, stream = _logger()
    processor = fifo_processor(logger)

    def handle(record):
        raise ValueError("no customer anna@example.com at +31 6 12345678 for card 4242 4242 4242 4242")

    process_partial_response(event={"Records": [_sqs("m-1", "{}", "c_1")]}, record_handler=handle,
                             processor=processor, context=Context())
    [line] = _lines(stream)
    text = json.dumps(line)
    for secret in ("anna@example.com", "12345678", "4242 4242"):
        assert secret not in text
    assert "[email]" in line["error"] and line["message_id"] == "m-1"


def test_the_records_a_fifo_group_hands_back_and_planned_retries_are_not_failures(capsys):
    logger, stream = _logger()
    processor = fifo_processor(logger, retry=(Later,))
    event = {"Records": [_sqs("m-1", "later", "c_1"), _sqs("m-2", "ok", "c_1"), _sqs("m-3", "ok", "c_2")]}

    def handle(record):
        if record.body == "later":
            raise Later("retry in 10s: Twilio answered HTTP 503")

    result = process_partial_response(event=event, record_handler=handle, processor=processor, context=Context())

    assert result["batchItemFailures"] == [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]
    lines = _lines(stream)
    assert {x["level"] for x in lines} == {"INFO"}
    assert [(x["message"], x["message_id"]) for x in lines] == [
        ("record retried later", "m-1"), ("record handed back: an earlier record of its group failed", "m-2")]
    assert "HTTP 503" in lines[0]["reason"]
    assert not [f for f in _figures(capsys.readouterr().out) if "RecordsFailed" in f]


def test_a_failed_stream_record_is_logged_by_event_id_and_sequence_number_without_its_images(capsys):
    logger, stream = _logger()
    processor = stream_processor(logger)
    event = {"Records": [_stream("e-1", "100"), _stream("e-2", "200")]}

    def handle(record):
        if record.event_id == "e-2":
            raise RuntimeError("the search engine refused the document")

    result = process_partial_response(event=event, record_handler=handle, processor=processor, context=Context())

    assert result["batchItemFailures"] == [{"itemIdentifier": "200"}]
    [line] = _lines(stream)
    assert (line["event_id"], line["sequence_number"], line["event_name"]) == ("e-2", "200", "MODIFY")
    assert line["error_type"] == "RuntimeError" and "Anna" not in json.dumps(line)
    assert [f["RecordsFailed"] for f in _figures(capsys.readouterr().out) if "function" in f] in ([1.0], [[1.0]])


def test_a_stream_batch_that_failed_entirely_is_counted_before_it_is_raised(capsys):
    logger, stream = _logger()
    processor = stream_processor(logger)

    def handle(record):
        raise RuntimeError("down")

    with pytest.raises(BatchProcessingError):          # Lambda bisects and retries it, as before
        process_partial_response(event={"Records": [_stream("e-1", "1"), _stream("e-2", "2")]},
                                 record_handler=handle, processor=processor, context=Context())
    assert len(_lines(stream)) == 2
    assert [f["RecordsFailed"] for f in _figures(capsys.readouterr().out) if "function" in f] in ([2.0], [[2.0]])


def test_the_count_starts_again_with_each_batch(capsys):
    logger, _ = _logger()
    processor = fifo_processor(logger)

    def handle(record):
        raise RuntimeError("x")

    for _ in range(2):
        process_partial_response(event={"Records": [_sqs("m-1", "{}", "c_1")]}, record_handler=handle,
                                 processor=processor, context=Context())
    assert [f["RecordsFailed"] for f in _figures(capsys.readouterr().out) if "function" in f] in ([1.0, 1.0],
                                                                                                  [[1.0], [1.0]])


def test_every_queue_and_stream_consumer_reports_its_failed_records():
    consumers = [app for app in sorted((ROOT / "functions").glob("*/app.py"))
                 if "process_partial_response" in app.read_text()]
    assert {app.parent.name for app in consumers} >= {"router", "dispatcher", "privacy", "analytics_writer",
                                                       "label_indexer", "live_fanout", "search_indexer"}
    for app in consumers:
        source = app.read_text()
        assert re.search(r"\b(fifo|stream)_processor\(logger", source), f"{app.parent.name}: not shopdesk.batch"
        assert not re.search(r"\b(SqsFifoPartialProcessor|BatchProcessor)\(", source), app.parent.name
