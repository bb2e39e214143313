"""Make moto safe for concurrent clients, which every real Lambda deployment has.

moto's in-memory DynamoDB backend is not thread-safe: TransactWriteItems deep-copies a table's
state while another request thread may be writing to it ("dictionary changed size during
iteration"). DynamoDB itself serialises writes per item, so serialising every DynamoDB request to
moto changes no observable semantics; it only removes moto's race. Other services are left alone
(SQS long polls must not block the world).

moto's SQS FIFO receive also misorders a group that becomes visible again as a whole (every
record of a failed batch returned with the same visibility timeout): it releases the group's
"in flight" lock one message at a time while iterating, so the *last* message is delivered first.
SQS delivers the group in order. The patch releases the lock of every message that is visible
again before moto's loop runs, so the group is judged only by messages still in flight.

moto's SES keeps every accepted message (``SESBackend.sent_messages``, shared by v1 and v2) but
not when it was sent; the patch stamps each one (``local_sent_at``, on the stack's clock) as it
is appended, so the outbox can order mail among the other providers' requests.
"""

from __future__ import annotations

import contextlib
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
    _applied = True
