"""A function error, an exception that escapes a handler, is written by Lambda's runtime itself: its text as the
invocation's ``errorMessage`` and its stack as ``stackTrace``, to the function's log and to a caller that invoked it
directly, never through the scrubbing logger. A library's exception can hold what a customer wrote (pydantic's
``input_value``, Powertools' ``BatchProcessingError`` with every record's exception), so every handler's entry,
``shopdesk.logs``' ``inject_lambda_context``, logs it scrubbed and gives the runtime a ``FunctionFailed`` that names
its type and the request, nothing it said (docs/security.md, section 7). The invocation still fails."""

from __future__ import annotations

import io
import logging
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from local.clock import Clock
from local.functions import FunctionSpec
from local.runtime import FunctionPool, function_environment
from shopdesk.logs import FunctionFailed
from tests.support import ROOT, FakeContext

EMAIL = "wilhelmina.okonkwo@example.net"
PHONE = "+31655501234"
WORDS = "the blue teapot arrived shattered"
TRACES = (EMAIL, PHONE, WORDS, "okonkwo", "5550123", "teapot", "shattered")


def _a_message_the_index_cannot_read() -> dict[str, Any]:
    """A table stream's batch of one message item whose text is a map, not a string (an item of another shape):
    pydantic refuses it, its error's ``input_value`` the text, the customer's words and addresses with it; the
    record fails, and so the whole batch (Powertools raises ``BatchProcessingError``, every record's exception and
    stack in its text)."""
    image = {"id": {"S": "m_teapot"}, "conversation_id": {"S": "c_teapot"}, "direction": {"S": "inbound"},
             "created_at": {"S": "2026-12-07T10:00:00.000Z"}, "channel": {"S": "sms"},
             "text": {"M": {"quoted": {"S": f"Hi, {WORDS}. Call me on {PHONE} or mail {EMAIL}"}}}}
    return {"Records": [{
        "eventID": "e-1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"PK": {"S": "CONV#c_teapot"}, "SK": {"S": "MSG#2026-12-07T10:00:00.000Z#m_teapot"}},
                     "NewImage": image, "SequenceNumber": "100", "SizeBytes": 120,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/desk/stream/2026-12-07T00:00:00.000"}]}


def _traces(text: str) -> list[str]:
    return [t for t in TRACES if t.lower() in text.lower()]


@pytest.fixture
def indexer_env(desk, tmp_path: Path) -> dict[str, str]:
    desk.env.update({"SEARCH_ENGINE": "sqlite", "SEARCH_INDEX_PATH": str(tmp_path / "search.sqlite3"),
                     "POWERTOOLS_LOG_LEVEL": "INFO"})
    return desk.env


def test_a_handlers_escaping_exception_reaches_lambdas_runtime_and_the_log_without_the_customers_data(
        desk, indexer_env, capsys, monkeypatch):
    # Given the search indexer, a real handler, given a record whose item pydantic refuses, its log read where its
    # logger writes (the handler the first logger of the service was given, here perhaps another test's stdout)
    app = desk.handler("search_indexer")
    written_log = io.StringIO()
    monkeypatch.setattr(app.logger.registered_handler, "stream", written_log)
    # When it runs
    with pytest.raises(FunctionFailed) as failed:
        app.lambda_handler(_a_message_the_index_cannot_read(), FakeContext())
    # Then the invocation still fails (the stream's mapping retries and bisects as before), and what Lambda's runtime
    # writes of it (its text as errorMessage, its traceback as stackTrace) names the type and the request only
    error = failed.value
    assert str(error) == "BatchProcessingError (logged as req-1)"
    written = "".join(traceback.format_exception(error))
    assert _traces(str(error)) == [] and _traces(written) == [], written
    assert type(error.__context__).__name__ == "BatchProcessingError"   # what it replaced (not written: from None)
    assert _traces(str(error.__context__)) != []                        # which held the customer's data
    # and the function's own log has it once, scrubbed, under that request, with nothing of the customer's
    logs = capsys.readouterr()
    assert _traces(written_log.getvalue() + logs.out + logs.err) == [], written_log.getvalue()
    lines = [line for line in written_log.getvalue().splitlines() if '"function failed"' in line]
    assert len(lines) == 1 and '"error_type":"BatchProcessingError"' in lines[0] and '"req-1"' in lines[0], lines
    assert "ValidationError" in lines[0] and "input_value=[redacted]" in lines[0]


def test_the_local_stacks_runtime_answers_and_logs_a_function_error_without_the_customers_data(
        indexer_env, caplog):
    # Given the search indexer in the local stack's execution environment (a process, as Lambda's runtime runs it),
    # whose output the stack logs under the function's logical id
    spec = FunctionSpec(logical_id="SearchIndexerFunction", name="shopdesk-test-SearchIndexerFunction",
                        arn="arn:aws:lambda:us-east-1:123456789012:function:shopdesk-test-SearchIndexerFunction",
                        handler="app.lambda_handler", code_dir=ROOT / "functions" / "search_indexer",
                        layer_dirs=[ROOT / "layers" / "shopdesk"], environment=dict(indexer_env), timeout=60,
                        memory=512)
    aws = {k: v for k, v in indexer_env.items() if k.startswith("AWS_")}
    pool = FunctionPool(spec, function_environment(spec, aws), 1, Clock())
    caplog.set_level(logging.INFO, logger="SearchIndexerFunction")
    try:
        # When it fails on a record whose item pydantic refuses
        invocation = pool.invoke(_a_message_the_index_cannot_read())
        logged = _settled(caplog)
    finally:
        for worker in pool.close():
            worker.stop(time.monotonic() + 5)
    # Then it failed, as before, and what the runtime answers (errorType, errorMessage, stackTrace) names no one
    assert not invocation.ok and invocation.error is not None
    assert invocation.error["errorType"] == "FunctionFailed", invocation.error
    assert invocation.error["errorMessage"] == f"BatchProcessingError (logged as {invocation.request_id})"
    assert _traces(repr(invocation.error)) == [], invocation.error
    # and nothing the environment wrote to the stack's log does: the runtime's [ERROR] line and traceback, the
    # function's own lines
    assert "[ERROR] FunctionFailed: BatchProcessingError" in logged, logged
    assert '"function failed"' in logged and "input_value=[redacted]" in logged
    assert _traces(logged) == [], logged


def _settled(caplog: pytest.LogCaptureFixture, timeout: float = 15) -> str:
    """The function's lines once its runtime's error report is in and nothing more has come for a moment."""
    deadline, seen, quiet_since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        text = "\n".join(r.getMessage() for r in caplog.records if r.name == "SearchIndexerFunction")
        if len(text) != seen:
            seen, quiet_since = len(text), time.monotonic()
        elif "[ERROR]" in text and time.monotonic() - quiet_since > 0.5:
            return text
        time.sleep(0.05)
    return text
