"""Replies the outbound queue stopped working on: not sent, not failed, and nothing tries to send them.

The dispatcher marks a reply ``failed`` itself when a provider refuses it or its last attempt fails; the outbound
queue's dead-letter queue only catches what never reached that decision (a crash, DynamoDB unreachable on every
delivery). A reply whose queue record went there stays ``queued`` although nothing will send it until an operator
redrives the dead-letter queue, which keeps it 14 days. Such a reply is *stuck*, and the inbox says so
(``stuck`` on the agent API's message) and lets the agent send it again (``Inbox.retry``).

Stuck: not sent (no provider id) and not failed, and for ``STUCK_AFTER`` (an hour) nothing tried to send it or a
reply ahead of it in its conversation's queue (the outbound queue is FIFO per conversation: a reply waits while the
one before it is being retried). Between two attempts the dispatcher waits at most 15 minutes (its backoff's cap,
``logic.dispatch.MAX_DELAY_SECONDS``, and the wait for an unconfirmed send, ``DISPATCH_RECONCILE_SECONDS`` ≤ 900 s),
so an hour without an attempt means its record is gone from the queue (a provider's Retry-After longer than an hour
would be the one exception). It is read when a conversation is, from what the reply holds (``created_at``,
``attempted_at``, its send intent): nothing is written until an agent sends it again; then one conditional write
marks it failed (``Conversations.give_up_stuck``, code ``stuck``), only while still nothing took it up, so a
delivery of its old record that comes back later (a redrive) finds it failed and sends nothing: the customer gets
it once, from the copy sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from shopdesk.models import Direction, Message

STUCK_AFTER = timedelta(hours=1)
FAILED = frozenset({"failed", "undelivered"})


def unsent(message: Message) -> bool:
    """An outbound reply that has not gone and has not failed: still the queue's."""
    return message.direction is Direction.OUTBOUND and not message.provider_id and message.status not in FAILED


def last_tried(message: Message) -> datetime:
    """When a delivery last did something with the reply: an attempt, an intent, else its creation."""
    times = [message.created_at, message.attempted_at, message.sending.since if message.sending else None]
    return max(t for t in times if t is not None)


def stuck_replies(messages: Iterable[Message], now: datetime) -> set[str]:
    """The ids of the replies among ``messages`` (a conversation's timeline, merged ones' included) that are stuck
    at ``now``: not sent, and neither they nor a reply queued before them in their conversation were tried for
    ``STUCK_AFTER``."""
    queues: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        if message.direction is Direction.OUTBOUND:
            queues[message.conversation_id].append(message)
    stuck: set[str] = set()
    for queue in queues.values():
        latest: datetime | None = None
        for message in sorted(queue, key=lambda m: (m.created_at, m.id)):
            tried = last_tried(message)
            latest = tried if latest is None or tried > latest else latest
            if unsent(message) and now - latest >= STUCK_AFTER:
                stuck.add(message.id)
    return stuck


def never_taken_up(message: Message) -> bool:
    """Whether a stored reply may never have reached the outbound queue: still ``queued``, with no provider id and
    no delivery's trace on it (no intent, no attempt, not failed). A delivery that took it up stamps it first
    (``record_intent``, ``record_attempt``), so one without either was not delivered yet, or never queued: a keyed
    request's repeat (``Inbox.answered_before``) and the sweep (``logic.sla.requeue_replies``) queue it again."""
    return (message.direction is Direction.OUTBOUND and message.status == "queued" and message.provider_id is None
            and message.sending is None and message.attempted_at is None)


def gave_up(message: Message) -> dict[str, str]:
    """The error a stuck reply is marked failed with when an agent sends it again."""
    text = ("Not sent: nothing tried to send this reply for an hour or more (its place in the outbound queue was "
            "lost, or it waits in the dead-letter queue); it will not be sent from there")
    if message.sending is not None:
        text += ". A send of it that started earlier was never confirmed: the customer may have it already"
    return {"code": "stuck", "message": text}
