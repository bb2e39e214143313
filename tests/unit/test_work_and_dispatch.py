"""Queue message bodies (work and outbound) and the send-one-reply decision, with fakes for I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shopdesk.channels.base import OutboundRequest, SendResult
from shopdesk.errors import ProviderError
from shopdesk.logic import dispatch as dispatch_module
from shopdesk.logic.dispatch import OutboundWork, RetryLater, RetryPolicy, dispatch
from shopdesk.logic.timeline import preview, system_message
from shopdesk.logic.work import DrainWork, InboundWork, WorkItem, enqueue_drain, enqueue_inbound, enqueue_refill
from shopdesk.models import Direction, Message


@dataclass
class FakeQueue:
    sent: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)

    def send(self, body: dict[str, Any], *, group: str, dedup_id: str) -> None:
        self.sent.append((body, group, dedup_id))


# ------------------------------------------------------------------------------ work queue bodies

def test_inbound_work_is_grouped_by_conversation_and_deduplicated_by_message():
    from datetime import UTC, datetime

    from shopdesk.models import Attachment, Direction, Message
    message = Message(id="m_1", conversation_id="c_1", direction=Direction.INBOUND, text="hi",
                      created_at=datetime(2026, 11, 22, 22, 0, tzinfo=UTC),
                      attachments=[Attachment(url="https://api.twilio.com/x", content_type="image/jpeg")])
    queue = FakeQueue()
    enqueue_inbound(queue, "c_1", message, "default")  # type: ignore[arg-type]
    assert queue.sent == [({"kind": "inbound", "conversation_id": "c_1", "message_id": "m_1",
                            "message_sk": "MSG#2026-11-22T22:00:00.000Z#m_1", "has_media": True,
                            "new_conversation": False, "auto_reply": False, "addresses": False,
                            "team": "default", "marker": None}, "c_1", "m_1")]


def test_drain_work_is_grouped_by_team_with_a_fresh_dedup_id():
    queue = FakeQueue()
    enqueue_drain(queue, "default", "sweep")  # type: ignore[arg-type]
    enqueue_drain(queue, "default", "sweep")  # type: ignore[arg-type]
    (body, group, first), (_, _, second) = queue.sent
    assert body == {"kind": "drain", "team": "default", "reason": "sweep"}
    assert group == "drain#default"
    assert first.startswith("d_") and first != second


def test_refill_work_names_the_agent_and_is_grouped_by_agent():
    queue = FakeQueue()
    enqueue_refill(queue, "alice", "agent-online")  # type: ignore[arg-type]
    [(body, group, dedup)] = queue.sent
    assert body == {"kind": "drain", "agent_id": "alice", "reason": "agent-online"}
    assert group == "refill#alice" and dedup.startswith("d_")
    work = WorkItem.model_validate({"item": body}).item
    assert isinstance(work, DrainWork) and (work.team, work.agent_id) == (None, "alice")


@pytest.mark.parametrize(("body", "kind"), [
    ({"kind": "inbound", "conversation_id": "c_1", "message_id": "m_1"}, InboundWork),
    ({"kind": "drain", "team": "vip", "reason": "sweep"}, DrainWork),
])
def test_work_bodies_parse_to_their_kind(body, kind):
    assert isinstance(WorkItem.model_validate({"item": body}).item, kind)


@pytest.mark.parametrize("body", [{"kind": "teleport"}, {"conversation_id": "c_1"}, {"kind": "inbound"}])
def test_unknown_or_incomplete_work_is_refused(body):
    with pytest.raises(ValidationError):
        WorkItem.model_validate({"item": body})


# ------------------------------------------------------------------------------ timeline helpers

def test_preview_is_the_text_cut_to_140_characters():
    assert preview("x" * 200) == "x" * 140
    assert preview("short", attachments=2) == "short"


@pytest.mark.parametrize(("count", "text"), [(1, "[1 attachment]"), (3, "[3 attachments]")])
def test_preview_of_media_only_message_counts_attachments(count, text):
    assert preview(None, count) == text
    assert preview("", count) == text


def test_preview_of_nothing_is_none():
    assert preview(None) is None


def test_system_message_is_a_system_entry_now():
    note = system_message("c_1", "Assigned to alice", author="bob")
    assert (note.conversation_id, note.direction, note.text, note.author) == (
        "c_1", Direction.SYSTEM, "Assigned to alice", "bob")
    assert note.id.startswith("m_")


# ------------------------------------------------------------------------------ dispatch

WORK = OutboundWork(conversation_id="c_1", message_id="m_1", message_sk="MSG#2026-05-01T09:00:00.000Z#m_1")


def _reply(**changes: Any) -> Message:
    base = {"id": "m_1", "conversation_id": "c_1", "direction": Direction.OUTBOUND, "channel": "whatsapp",
            "text": "On its way", "status": "queued", "created_at": datetime(2026, 5, 1, 9, tzinfo=UTC),
            "to": "whatsapp:+31612345678", "sender": "whatsapp:+14155550100"}
    return Message(**{**base, **changes})


@dataclass
class FakeConversations:
    message: Message | None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)

    def get_message(self, conversation_id: str, sk: str) -> Message | None:
        return self.message

    def record_attempt(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.attempts.append(kwargs)

    def record_send(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.sends.append(kwargs)


@dataclass
class FakeSender:
    error: ProviderError | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def send(self, request: OutboundRequest) -> SendResult:
        self.calls.append(request)
        if self.error:
            raise self.error
        return SendResult(provider_id="SM123", status="queued")


POLICY = RetryPolicy(max_attempts=3, base_seconds=5)


def _dispatch(conversations: FakeConversations, sender: FakeSender, attempt: int = 1) -> str:
    return dispatch(WORK, attempt, conversations, lambda _channel: sender, POLICY,  # type: ignore[arg-type]
                    "https://desk.example.com/webhooks/twilio/status")


def test_queued_reply_is_sent_and_recorded():
    conversations, sender = FakeConversations(_reply()), FakeSender()
    assert _dispatch(conversations, sender) == "sent"
    assert sender.calls == [OutboundRequest(channel="whatsapp", to="whatsapp:+31612345678",
                                            sender="whatsapp:+14155550100", text="On its way",
                                            status_callback="https://desk.example.com/webhooks/twilio/status")]
    assert conversations.sends == [{"provider": "twilio", "provider_id": "SM123", "status": "queued", "attempts": 1,
                                    "other_ids": []}]


@pytest.mark.parametrize("message", [None, _reply(direction=Direction.INBOUND), _reply(status="sent"),
                                     _reply(status="failed")])
def test_missing_foreign_or_already_handled_reply_is_skipped_without_sending(message):
    conversations, sender = FakeConversations(message), FakeSender()
    assert _dispatch(conversations, sender) == "skipped"
    assert sender.calls == [] and conversations.sends == [] and conversations.attempts == []


def test_retryable_failure_before_the_last_attempt_is_retried_later(monkeypatch):
    monkeypatch.setattr(dispatch_module.random, "uniform", lambda low, high: 1.0)
    error = ProviderError("rate limited", code="20429", retryable=True, http_status=429, retry_after=30)
    conversations = FakeConversations(_reply())
    with pytest.raises(RetryLater) as retry:
        _dispatch(conversations, FakeSender(error), attempt=2)
    assert retry.value.delay_seconds == 30                  # the provider's Retry-After beats the 10 s backoff
    assert conversations.attempts == [{"attempts": 2, "error": {"code": "20429", "message": "rate limited"},
                                       "failed": False}]


def test_retryable_failure_on_the_last_attempt_marks_the_reply_failed():
    error = ProviderError("Twilio answered HTTP 503", code=None, retryable=True, http_status=503)
    conversations = FakeConversations(_reply())
    assert _dispatch(conversations, FakeSender(error), attempt=3) == "failed"
    assert conversations.attempts[-1]["failed"] is True


def test_permanent_failure_marks_the_reply_failed_at_once():
    error = ProviderError("The customer unsubscribed", code="21610", retryable=False, http_status=400)
    conversations = FakeConversations(_reply())
    assert _dispatch(conversations, FakeSender(error), attempt=1) == "failed"
    assert conversations.attempts == [
        {"attempts": 1, "error": {"code": "21610", "message": "The customer unsubscribed"}, "failed": True}]
