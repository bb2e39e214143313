"""The queue and stream consumers' batch processors: Powertools' partial-batch processors that say what failed.

Powertools reports a record that raised to Lambda (``batchItemFailures``) and logs it only at DEBUG, and Lambda
counts an invocation that answered with failed items as a success: a record could fail until it reached its
dead-letter queue with no log line, no ``Errors`` and no alarm. These processors override Powertools'
``failure_handler`` (its documented extension point, "Extending BatchProcessor") so that every record that
failed:

- writes one WARNING line, ``record failed``, through the function's scrubbing logger (``shopdesk.logs``): the
  exception's type (``error_type``) and message (``error``) with its stack trace, and the record's ids, never
  its body: an SQS record's ``message_id``, ``message_group_id`` and ``receive_count`` (the id a dead letter keeps,
  which ``scripts/redrive.py --dry-run`` prints), a stream record's ``event_id``, ``sequence_number`` and
  ``event_name``;
- is counted in ``RecordsFailed`` (embedded metrics, ``shopdesk.metrics``), once per batch, by ``function``
  (the Lambda function's name, as the template's ``!Ref`` gives it) and in all: the template's
  ``RecordsFailedAlarm`` reads the total and pages the operations topic while records fail, before their
  dead-letter queue fills; the dashboard graphs it by function.

Not failures, so neither counted nor logged as one: a record a FIFO processor hands back only because an earlier
record of its group failed (order: an INFO line names it), and an exception the consumer raises to retry on
purpose (``retry``: the dispatcher's ``RetryLater``, a provider's backoff; an INFO line with its reason).
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    ExceptionInfo,
    FailureResponse,
    SqsFifoPartialProcessor,
)
from aws_lambda_powertools.utilities.batch.exceptions import (
    SQSFifoCircuitBreakerError,
    SQSFifoMessageGroupCircuitBreakerError,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shopdesk import metrics

METRIC = "RecordsFailed"
_SKIPPED = (SQSFifoCircuitBreakerError, SQSFifoMessageGroupCircuitBreakerError)
MAX_ERROR = 1_000


def record_ids(record: Any) -> dict[str, Any]:
    """What finds a record again (in its queue, its dead-letter queue or the stream), and nothing it says."""
    if isinstance(record, SQSRecord):
        attributes = record.attributes
        return {"message_id": record.message_id, "message_group_id": attributes.message_group_id,
                "receive_count": int(attributes.approximate_receive_count or 0)}
    if isinstance(record, DynamoDBRecord):
        data = record.dynamodb
        return {"event_id": record.event_id, "event_name": record.raw_event.get("eventName"),
                "sequence_number": data.sequence_number if data is not None else None}
    return {"record": "unknown"}


class _Reported(BatchProcessor):
    """A Powertools partial processor whose failures are logged and counted (see the module)."""

    _failures_logger: logging.Logger | Any = logging.getLogger(__name__)
    _retry: tuple[type[BaseException], ...] = ()
    _failed = 0

    def _report_to(self, logger: logging.Logger | Any, retry: tuple[type[BaseException], ...]) -> None:
        self._failures_logger = logger
        self._retry = retry
        self._failed = 0

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        ids = record_ids(record)
        if isinstance(error, _SKIPPED):
            self._failures_logger.info("record handed back: an earlier record of its group failed", extra=ids)
        elif isinstance(error, self._retry):
            self._failures_logger.info("record retried later", extra={**ids, "reason": str(error)[:MAX_ERROR]})
        else:
            self._failed += 1
            self._failures_logger.warning(
                f"record failed: {type(error).__name__}",
                exc_info=exception if exception[2] is not None else None,
                extra={**ids, "error_type": _qualified(error), "error": str(error)[:MAX_ERROR]})
        return super().failure_handler(record, exception)

    def _prepare(self) -> None:
        self._failed = 0
        super()._prepare()

    def _clean(self) -> None:
        failed, self._failed = self._failed, 0
        if failed:
            metrics.count(METRIC, failed, function=self._function_name())
            metrics.count(METRIC, failed)           # all functions: the alarm reads this one
        super()._clean()

    def _function_name(self) -> str:
        context = getattr(self, "lambda_context", None)
        return str(getattr(context, "function_name", "") or "unknown")


def _qualified(error: BaseException | None) -> str:
    kind = type(error)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


class FifoProcessor(_Reported, SqsFifoPartialProcessor):
    """A FIFO queue's records, in order per message group: a failed record hands back the rest of its group."""


class StreamProcessor(_Reported):
    """The table stream's records: each fails alone (the event source mapping bisects and retries)."""


def fifo_processor(logger: logging.Logger | Any, *,
                   retry: tuple[type[BaseException], ...] = ()) -> SqsFifoPartialProcessor:
    """The work, outbound and privacy queues' processor: the rest of a failed record's group is skipped (order), and
    a batch in which every record failed is reported like any other (routine on a FIFO queue: one group waiting
    out a retry), not raised."""
    processor = FifoProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False
    processor._report_to(logger, retry)
    return processor


def stream_processor(logger: logging.Logger | Any) -> BatchProcessor:
    """A table stream consumer's processor (Powertools raises when every record failed: the mapping then bisects)."""
    processor = StreamProcessor(event_type=EventType.DynamoDBStreams)
    processor._report_to(logger, ())
    return processor
