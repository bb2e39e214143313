"""Make moto safe for concurrent clients, which every real Lambda deployment has.

moto's in-memory DynamoDB backend is not thread-safe: TransactWriteItems deep-copies a table's
state while another request thread may be writing to it ("dictionary changed size during
iteration"). DynamoDB itself serialises writes per item, so serialising every DynamoDB request to
moto changes no observable semantics; it only removes moto's race. Other services are left alone
(SQS long polls must not block the world).

moto's TransactWriteItems also backs up every table it touches whole (a deep copy per operation, so a
13-operation transaction on a 30,000-item table copies 390,000 items) to roll back a cancelled
transaction. The patch keeps the tables and journals the items the transaction names instead:
on cancellation those items are put back as they were. Same result, at a cost that does not grow
with the table (stream records of a cancelled transaction stay; nothing here reads streams).

moto's SQS FIFO receive also misorders a group that becomes visible again as a whole (every
record of a failed batch returned with the same visibility timeout): it releases the group's
"in flight" lock one message at a time while iterating, so the *last* message is delivered first.
SQS delivers the group in order. The patch releases the lock of every message that is visible
again before moto's loop runs, so the group is judged only by messages still in flight.

moto's SES keeps every accepted message (``SESBackend.sent_messages``, shared by v1 and v2) but
not when it was sent; the patch stamps each one (``local_sent_at``, on the stack's clock) as it
is appended, so the outbox can order mail among the other providers' requests.

moto's S3 answers a browser's form upload (a presigned POST) without the bucket's CORS headers, which S3
adds, so a page on another origin (the web inbox, the widget) never learns that its upload worked. The
patch adds the same headers moto gives every other request of a matching origin. moto also answers a
preflight with every CORS rule of the bucket, refusing it when any rule names other origins; S3 uses the
first rule that matches (the media bucket has one rule for the widget's origins and one for the inbox's).

Three patches only make moto cheaper, found by profiling the stack under the load bench (py-spy). moto's
server lists its own package directory (an ``isdir`` per module) on every request, under a lock, to recognise a
host: the list is read once instead. moto writes GetRecords' stream records, and the items of every DynamoDB
read (GetItem, BatchGetItem, Query, Scan, TransactGetItems), already in their wire form, through its generic
serialiser, field by field against the service model: json.dumps writes the same JSON. moto's SQS computes
every queue attribute, the three approximate counts included (each a walk over every message, reading the
clock per message), whenever it reads any one: three times per SendMessage, and per message a ReceiveMessage
looks at; the counts are computed only where someone can read them (GetQueueAttributes), so a send stays O(1)
as the queue grows.
"""

from __future__ import annotations

import base64
import contextlib
import copy as copy_module
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_applied = False
_ses_clock: list[Callable[[], datetime]] = [lambda: datetime.now(UTC)]


def set_ses_clock(now: Callable[[], datetime]) -> None:
    """The clock that stamps mail accepted by moto's SES (the stack's movable one)."""
    _ses_clock[0] = now


class _StampedList(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        with contextlib.suppress(AttributeError):  # a model without instance attributes: unstamped
            item.local_sent_at = _ses_clock[0]()
        super().append(item)


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self):  # type: ignore[no-untyped-def]
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _journal_transactions()

    from moto.sqs.models import SQSBackend

    original_receive = SQSBackend.receive_message

    def receive_message(self, queue_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        queue = self.get_queue(queue_name)
        for message in list(queue.pending_messages):
            if message.visible:
                queue.pending_messages.discard(message)
        return original_receive(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]

    from moto.ses.models import SESBackend

    original_init = SESBackend.__init__

    def ses_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.sent_messages = _StampedList(self.sent_messages)

    SESBackend.__init__ = ses_init  # type: ignore[method-assign]
    _cors_on_form_uploads()
    _modules_listed_once()
    _sqs_counts_when_read()
    _answers_as_json()
    _applied = True


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)           # what moto's serialiser writes: epoch seconds, milliseconds
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not a DynamoDB wire value")


def _answers_as_json() -> None:
    """GetRecords' records and the DynamoDB reads' items are already in the wire's form (AttributeValue JSON,
    binary as base64; a record's creation time a datetime): written with json.dumps instead of moto's serialiser,
    which walks every attribute against the service model and took half the stack's time under load."""
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def get_records(self):  # type: ignore[no-untyped-def]
        limit = self._get_param("Limit")
        result = self.backend.get_records(self._get_param("ShardIterator"), 1000 if limit is None else limit)
        return json.dumps(result, default=_wire_value)

    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]

    # The reads' answers are items in the same wire form (the serialiser drops absent members: so does this)
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    def as_json(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def answer(self: Any) -> Any:
            result = read(self)
            return json.dumps(_present(result.result), default=_wire_value) if type(result) is DynamoResult else result
        return answer

    for name in ("get_item", "batch_get_item", "query", "scan", "transact_get_items"):
        setattr(DynamoHandler, name, as_json(getattr(DynamoHandler, name)))


def _present(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def _modules_listed_once() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
           "approximate_number_of_messages_not_visible")


def _sqs_counts_when_read() -> None:
    """SendMessage, and the retention check ReceiveMessage makes per message, read one queue attribute (content
    deduplication, retention period) through ``Queue.attributes``, which also counts the queue's messages: inside
    them the counts are skipped (0, never returned to anyone)."""
    from moto.sqs.models import Queue, SQSBackend

    skipping = threading.local()

    def counted(fget: Callable[[Any], int]) -> property:
        def count(self: Any) -> int:
            return 0 if getattr(skipping, "depth", 0) else fget(self)
        return property(count)

    def without_counts(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            skipping.depth = getattr(skipping, "depth", 0) + 1
            try:
                return method(*args, **kwargs)
            finally:
                skipping.depth -= 1
        return run

    for name in _COUNTS:
        setattr(Queue, name, counted(getattr(Queue, name).fget))
    Queue.add_message = without_counts(Queue.add_message)  # type: ignore[method-assign]
    for name in ("send_message", "is_message_valid_based_on_retention_period"):
        setattr(SQSBackend, name, without_counts(getattr(SQSBackend, name)))


def _cors_on_form_uploads() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def bucket_response_post(self, request, bucket_name):  # type: ignore[no-untyped-def]
        status, headers, body = original(self, request, bucket_name)
        with contextlib.suppress(Exception):        # a bucket without CORS rules: no headers, as in S3
            headers = {**self._get_cors_headers_other(), **headers}
        return status, headers, body

    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]

    from types import SimpleNamespace

    from moto.s3.utils import cors_matches_origin

    original_options = S3Response._set_cors_headers_options

    def set_cors_headers_options(self, headers, bucket):  # type: ignore[no-untyped-def]
        origin = headers.get("Origin")
        method = headers.get("Access-Control-Request-Method")
        for rule in bucket.cors:
            if (rule.allowed_origins is not None and origin and cors_matches_origin(origin, rule.allowed_origins)
                    and (method is None or rule.allowed_methods is None or method in rule.allowed_methods)):
                return original_options(self, headers, SimpleNamespace(cors=[rule]))
        return original_options(self, headers, bucket)       # no rule matches: moto refuses it, as S3 does

    S3Response._set_cors_headers_options = set_cors_headers_options  # type: ignore[method-assign]


def _journal_transactions() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _KeepTables:
        """``copy`` as moto's backend module sees it: tables are not copied, everything else is."""
        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy_module.deepcopy(value, memo)

    models.copy = _KeepTables  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        journal = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = (op.get("Item") or op.get("Key")) if table is not None else None
            if not key or table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = (table.items.get(hash_value, {}).get(range_value) if range_value is not None
                       else table.items.get(hash_value))
            journal.append((table, hash_value, range_value, copy_module.deepcopy(current)))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, previous in reversed(journal):
                if range_value is None:
                    table.items.pop(hash_value, None)
                    if previous is not None:
                        table.items[hash_value] = previous
                else:
                    table.items[hash_value].pop(range_value, None)
                    if previous is not None:
                        table.items[hash_value][range_value] = previous
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
