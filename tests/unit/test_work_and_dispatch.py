"""Queue message bodies (work and outbound) and the send-one-reply decision, with fakes for I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shopdesk.channels.base import OutboundRequest, SendResult
from shopdesk.errors import ProviderError
from shopdesk.ids import parse_reference, send_reference
from shopdesk.logic import dispatch as dispatch_module
from shopdesk.logic.dispatch import OutboundWork, RetryLater, RetryPolicy, dispatch
from shopdesk.logic.timeline import preview, system_message
from shopdesk.logic.work import DrainWork, InboundWork, WorkItem, enqueue_drain, enqueue_inbound, enqueue_refill
from shopdesk.models import Attachment, Direction, Message, SendIntent


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
                            "new_conversation": False, "auto_reply": False, "quiet": None, "addresses": False,
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
    intents: list[dict[str, Any]] = field(default_factory=list)
    parts: list[tuple[int, str]] = field(default_factory=list)

    def get_message(self, conversation_id: str, sk: str) -> Message | None:
        return self.message

    def record_attempt(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.attempts.append(kwargs)

    def record_send(self, conversation_id: str, sk: str, **kwargs: Any) -> None:
        self.sends.append(kwargs)

    def record_intent(self, conversation_id: str, sk: str, **kwargs: Any) -> bool:
        self.intents.append(kwargs)
        return True

    def record_part(self, conversation_id: str, sk: str, parts_sent: int, provider_id: str) -> None:
        self.parts.append((parts_sent, provider_id))


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
                                            status_callback="https://desk.example.com/webhooks/twilio/status",
                                            reference="c_1-20260501090000000-m_1-0")]
    # the intent went first, with the reference the provider carries back
    assert conversations.intents == [{"part": 0, "attempt": 1, "reference": "c_1-20260501090000000-m_1-0",
                                      "possibly_duplicate": False}]
    assert conversations.sends == [{"provider": "twilio", "provider_id": "SM123", "status": "queued", "attempts": 1,
                                    "other_ids": []}]


@pytest.mark.parametrize("message", [None, _reply(direction=Direction.INBOUND),
                                     _reply(status="sent", provider_id="SM1"), _reply(status="failed")])
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
    assert conversations.attempts == [{"attempts": 2, "error": {"code": "20429", "message": "rate limited; the reply "
                                                                                      "will be retried"},
                                       "failed": False, "keep_intent": False}]


def test_retryable_failure_on_the_last_attempt_marks_the_reply_failed():
    error = ProviderError("Twilio answered HTTP 503", code=None, retryable=True, http_status=503)
    conversations = FakeConversations(_reply())
    assert _dispatch(conversations, FakeSender(error), attempt=3) == "failed"
    assert conversations.attempts[-1]["failed"] is True
    # it says it failed and can be sent again, not that it will be retried
    assert conversations.attempts[-1]["error"]["message"] == ("Twilio answered HTTP 503; the reply was not sent "
                                                              "after 3 attempts: send it again")


def test_permanent_failure_marks_the_reply_failed_at_once():
    error = ProviderError("The customer unsubscribed", code="21610", retryable=False, http_status=400)
    conversations = FakeConversations(_reply())
    assert _dispatch(conversations, FakeSender(error), attempt=1) == "failed"
    assert conversations.attempts == [
        {"attempts": 1, "error": {"code": "21610", "message": "The customer unsubscribed"}, "failed": True,
         "keep_intent": False}]


def test_the_reply_failed_line_shows_the_providers_error_code(monkeypatch):
    import io
    import json
    import logging
    import uuid

    from shopdesk.logs import logger_for
    stream = io.StringIO()
    monkeypatch.setattr(dispatch_module, "logger", logger_for(service=f"dispatch-{uuid.uuid4().hex}",
                                                             logger_handler=logging.StreamHandler(stream)))
    error = ProviderError("The customer unsubscribed", code="21610", retryable=False, http_status=400)
    assert _dispatch(FakeConversations(_reply()), FakeSender(error)) == "failed"
    [line] = [x for x in map(json.loads, stream.getvalue().splitlines()) if x["message"] == "reply failed"]
    assert (line["provider"], line["provider_code"], line["http_status"]) == ("twilio", "21610", 400)
    assert "+31612345678" not in json.dumps(line)


# ------------------------------------------------------------------------------ an unrecorded send (#14)

SENT_AT = datetime(2026, 5, 1, 9, 0, 5, tzinfo=UTC)


def _unrecorded(provider: str, **changes: Any) -> Message:
    """A reply an earlier delivery started to send (intent recorded) and never recorded."""
    intent = SendIntent(part=0, attempt=1, since=SENT_AT, reference="c_1-20260501090000000-m_1-0")
    return _reply(provider=provider, sending=intent, **changes)


@dataclass
class LookupSender(FakeSender):
    found: SendResult | None = None
    lookups: list[datetime] = field(default_factory=list)

    def find(self, request: OutboundRequest, since: datetime) -> SendResult | None:
        self.lookups.append(since)
        return self.found


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setattr(dispatch_module.clock, "now", lambda: SENT_AT + timedelta(seconds=seconds))


def _redeliver(conversations: FakeConversations, sender: FakeSender) -> str:
    return dispatch(WORK, 2, conversations, lambda _provider: sender, POLICY,  # type: ignore[arg-type]
                    None, lambda a: f"https://files.example/{a.storage_key}", reconcile_seconds=120)


def test_a_part_a_receipt_confirmed_is_recorded_not_sent_again(monkeypatch):
    _later(monkeypatch, 1)
    conversations = FakeConversations(_unrecorded("whatsapp_cloud", confirmed={"0": "wamid.A"}))
    sender = FakeSender()
    assert _redeliver(conversations, sender) == "sent"
    assert sender.calls == [] and conversations.intents == []
    assert conversations.sends[0]["provider_id"] == "wamid.A"


def test_twilio_s_lookup_finds_the_message_and_nothing_is_sent_again(monkeypatch):
    _later(monkeypatch, 1)
    conversations = FakeConversations(_unrecorded("twilio"))
    sender = LookupSender(found=SendResult(provider_id="SMfound", status="sent"))
    assert _redeliver(conversations, sender) == "sent"
    assert sender.calls == [] and sender.lookups == [SENT_AT]
    assert conversations.sends[0]["provider_id"] == "SMfound"


def test_twilio_s_lookup_finding_nothing_sends_once_unflagged(monkeypatch):
    _later(monkeypatch, 1)
    conversations, sender = FakeConversations(_unrecorded("twilio")), LookupSender()
    assert _redeliver(conversations, sender) == "sent"
    assert len(sender.calls) == 1 and conversations.intents[0]["possibly_duplicate"] is False


@pytest.mark.parametrize("provider", ["whatsapp_cloud", "messenger"])
def test_whatsapp_and_messenger_wait_for_a_receipt_then_send_again_flagged(monkeypatch, provider):
    _later(monkeypatch, 30)
    channel = {"whatsapp_cloud": "whatsapp", "messenger": "messenger"}[provider]
    conversations, sender = FakeConversations(_unrecorded(provider, channel=channel)), FakeSender()
    with pytest.raises(RetryLater) as wait:
        _redeliver(conversations, sender)
    assert wait.value.delay_seconds == 90 and sender.calls == []
    _later(monkeypatch, 121)
    assert _redeliver(conversations, sender) == "sent"
    assert len(sender.calls) == 1 and conversations.intents[0]["possibly_duplicate"] is True


def test_email_waits_for_ses_then_fails_for_a_person_to_send_again(monkeypatch):
    _later(monkeypatch, 121)
    conversations, sender = FakeConversations(_unrecorded("email", channel="email")), FakeSender()
    assert _redeliver(conversations, sender) == "failed"
    assert sender.calls == [] and conversations.attempts[0]["error"]["code"] == "unconfirmed"
    assert conversations.attempts[0]["failed"] is True


@pytest.mark.parametrize("provider", ["telegram", "instagram"])
def test_providers_without_receipts_or_lookup_send_again_at_once_flagged(monkeypatch, provider):
    _later(monkeypatch, 1)
    conversations, sender = FakeConversations(_unrecorded(provider, channel=provider)), FakeSender()
    assert _redeliver(conversations, sender) == "sent"
    assert len(sender.calls) == 1 and conversations.intents[0]["possibly_duplicate"] is True


def test_an_intent_for_a_part_already_recorded_is_not_reconciled(monkeypatch):
    # part 0 recorded (parts_sent 1), the intent is the old one: part 1 goes as usual
    _later(monkeypatch, 1)
    message = _unrecorded("telegram", channel="telegram", parts_sent=1, part_ids=["1"],
                          attachments=[Attachment(storage_key=f"f/{n}.pdf", content_type="application/pdf",
                                                  filename=f"{n}.pdf") for n in ("a", "b")])
    conversations, sender = FakeConversations(message), FakeSender()
    assert _redeliver(conversations, sender) == "sent"
    assert [i["part"] for i in conversations.intents] == [1]
    assert conversations.intents[0]["possibly_duplicate"] is False


@pytest.mark.parametrize("conversation_id, sk, part", [
    ("c_01JAB", "MSG#2026-12-03T14:05:00.123Z#m_01JCD", 0), ("c_X", "MSG#2026-01-01T00:00:00.000Z#m_Y", 12)])
def test_a_send_reference_names_the_reply_and_part_in_characters_every_provider_takes(conversation_id, sk, part):
    reference = send_reference(conversation_id, sk, part)
    assert all(c.isalnum() or c in "_-" for c in reference) and len(reference) <= 256
    assert parse_reference(reference) == (conversation_id, sk, part)


@pytest.mark.parametrize("reference", [None, "", "hello", "c_1-2026-m_1-0", "c_1-20260501090000000-m_1-x",
                                       "c'1-20260501090000000-m_1-0"])
def test_anything_else_is_not_a_reference(reference):
    assert parse_reference(reference) is None


def test_a_send_without_an_answer_keeps_its_intent_and_a_refusal_settles_it():
    import socket
    import urllib.error

    def failure(cause: BaseException | None, **kwargs: Any) -> ProviderError:
        error = ProviderError("failed", code=None, retryable=kwargs.pop("retryable", True), **kwargs)
        error.__cause__ = cause
        return error

    timeout, reset = failure(TimeoutError("timed out")), failure(urllib.error.URLError(ConnectionResetError()))
    assert dispatch_module.may_have_reached(timeout) and dispatch_module.may_have_reached(reset)
    assert dispatch_module.may_have_reached(failure(None))            # accepted, but no id came back
    assert not dispatch_module.may_have_reached(failure(urllib.error.URLError(ConnectionRefusedError())))
    assert not dispatch_module.may_have_reached(failure(urllib.error.URLError(socket.gaierror())))
    assert not dispatch_module.may_have_reached(failure(None, http_status=503))
    assert not dispatch_module.may_have_reached(failure(None, retryable=False))
    conversations = FakeConversations(_reply())
    with pytest.raises(RetryLater):
        _dispatch(conversations, FakeSender(timeout))
    assert conversations.attempts[0]["keep_intent"] is True


@pytest.mark.parametrize(("message", "told"), [
    (_reply(status="undelivered", provider_id="SM1"), True),    # a receipt's failure an earlier delivery recorded
    (_reply(status="failed"), True),                              # refused by an earlier delivery
    (_reply(status="sent", provider_id="SM1"), False)])
def test_a_delivery_that_finds_the_reply_failed_reports_it_again(message, told):
    # Given a reply an earlier delivery of the record finished, which may have stopped before it told the router
    conversations, sender, reported = FakeConversations(message), FakeSender(), []
    # When the record is delivered again
    outcome = dispatch(WORK, 2, conversations, lambda _channel: sender, POLICY,  # type: ignore[arg-type]
                       None, on_failed=reported.append)
    # Then nothing is sent, and a failed reply is reported again (the router takes it once)
    assert outcome == "skipped" and sender.calls == []
    assert reported == ([message] if told else [])
