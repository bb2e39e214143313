"""A survey's answer meeting an erase's mark that landed on the customer's identity after ingest read it, before the
answer's write: the answer's transaction follows the one rule every store of a customer's message follows
(``dal.erased.transact_unless_held``): a mark whose erase holds no more is let go and the answer stored; a mark
whose erase still runs refuses the message as an erase refusal (``CustomerErasing``); a survey closed meanwhile is
closed still (``SurveyClosed``: the message is an ordinary one)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import post_twilio
from tests.integration.test_csat import _kinds, _resolved_sms_conversation, _settings, _sms
from tests.integration.test_privacy_failed_hold import _failed_keeping_its_hold, _kept_requests
from tests.support import twilio_form


def _survey_waiting_after_a_failed_erase(desk: Any, monkeypatch: Any, phone: str, sid: str) -> tuple[str, str]:
    """alice's resolved conversation whose survey waits on the customer's number, and the customer's erase, failed
    for good (its job reads failed), its mark since taken off their number. (the conversation, the failed job)"""
    _settings(desk)
    conv = _resolved_sms_conversation(desk, phone, sid)
    [_survey] = _kinds(desk, conv, "csat_survey")
    job = _failed_keeping_its_hold(desk, monkeypatch, desk.item(f"CONV#{conv}")["customer"]["id"])
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
        UpdateExpression="REMOVE erasing")
    identity = desk.item(f"IDENTITY#phone#{phone}")
    assert "erasing" not in identity and identity["csat"]["conversation_id"] == conv
    return conv, job


def _meanwhile(desk: Any, monkeypatch: Any, write: str, change: dict[str, Any]) -> list[str]:
    """The survey's ``write`` (``Surveys.answer`` or ``comment``) with ``change`` (an UpdateItem's arguments) made
    first, after ingest read the identity: what it raised, if anything."""
    from shopdesk.dal.csat import Surveys

    original, raised = getattr(Surveys, write), []

    def changed_first(surveys: Any, **kwargs: Any) -> Any:
        if not raised:
            desk.client("dynamodb").update_item(TableName=desk.table_name, **change)
        try:
            return original(surveys, **kwargs)
        except Exception as exc:
            raised.append(type(exc).__name__)
            raise
        finally:
            raised.append("")

    monkeypatch.setattr(Surveys, write, changed_first)
    return raised


def _mark(phone: str, job: str) -> dict[str, Any]:
    return {"Key": {"PK": {"S": f"IDENTITY#phone#{phone}"}, "SK": {"S": "META"}},
            "UpdateExpression": "SET erasing = :job", "ExpressionAttributeValues": {":job": {"S": job}}}


@pytest.mark.parametrize("write", ["answer", "comment"])
def test_a_survey_answer_meeting_a_mark_whose_erase_failed_lets_it_go_and_is_stored(desk, monkeypatch, write):
    # Given a survey waiting on a customer whose erase failed for good (a rating given first, for the comment)
    phone = "+31655501931" if write == "answer" else "+31655501932"
    conv, job = _survey_waiting_after_a_failed_erase(desk, monkeypatch, phone, f"SMhcs{write}")
    if write == "comment":
        _sms(desk, phone, "5", "SMhcsrated")
        assert desk.item(f"IDENTITY#phone#{phone}")["csat"]["state"] == "answered"
    # When the customer answers, and that erase's mark lands on their number after ingest read it
    raised = _meanwhile(desk, monkeypatch, write, _mark(phone, job))
    text = "4" if write == "answer" else "Quick and kind"
    answer = post_twilio(desk, twilio_form(MessageSid="SMhcs2", From=phone, To="+14155550100", Body=text))
    # Then the answer is stored on the resolved conversation (not taken for a new request), the mark let go
    assert answer["statusCode"] == 200 and _kept_requests(desk) == 0, answer
    kind = "csat_answer" if write == "answer" else "csat_comment"
    [stored] = _kinds(desk, conv, kind)
    assert stored["text"] == text and desk.item("EXTMSG#twilio#SMhcs2")["conversation_id"] == conv
    record = desk.item(f"CONV#{conv}", f"CSAT#{stored['payload']['cycle']}")
    assert record["state"] == ("answered" if write == "answer" else "commented"), record
    identity = desk.item(f"IDENTITY#phone#{phone}")
    assert "erasing" not in identity and "open_conversation_id" not in identity
    assert desk.item(f"CONV#{conv}")["status"] == "resolved"
    assert raised == [""], raised


def test_a_survey_answer_meeting_a_mark_whose_erase_still_runs_is_refused_as_an_erase_refusal(desk, monkeypatch):
    # Given a survey waiting on a customer, and the job of their erase reading running
    phone = "+31655501933"
    conv, job = _survey_waiting_after_a_failed_erase(desk, monkeypatch, phone, "SMhcsrun")
    desk.client("dynamodb").update_item(
        TableName=desk.table_name, Key={"PK": {"S": f"PRIVACYJOB#{job}"}, "SK": {"S": "META"}},
        UpdateExpression="SET #s = :running, received_at = created_at REMOVE gives_up_at",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":running": {"S": "running"}})
    # When the customer answers, and the erase's mark lands on their number after ingest read it
    raised = _meanwhile(desk, monkeypatch, "answer", _mark(phone, job))
    answer = post_twilio(desk, twilio_form(MessageSid="SMhcs3", From=phone, To="+14155550100", Body="4"))
    # Then the answer's write is refused as while any erase runs (not read as a survey closed, the rating then tried
    # as a new request): kept for its provider's replay, nothing of it stored, the survey and the mark as they were
    assert raised == ["CustomerErasing", ""], raised
    assert answer["statusCode"] == 200 and _kept_requests(desk) == 1, answer
    assert desk.item("EXTMSG#twilio#SMhcs3") is None
    assert _kinds(desk, conv, "csat_answer") == []
    identity = desk.item(f"IDENTITY#phone#{phone}")
    assert identity["erasing"] == job and identity["csat"]["state"] == "asked"
    assert "open_conversation_id" not in identity
    assert desk.item(f"CONV#{conv}", f"CSAT#{identity['csat']['cycle']}")["state"] == "asked"


def test_a_survey_answered_meanwhile_is_closed_still_and_the_message_is_an_ordinary_one(desk, monkeypatch):
    # Given a survey waiting on a customer whose erase failed for good
    phone = "+31655501934"
    conv, _job = _survey_waiting_after_a_failed_erase(desk, monkeypatch, phone, "SMhcsclosed")
    cycle = desk.item(f"IDENTITY#phone#{phone}")["csat"]["cycle"]
    # When the customer answers, and the survey is answered (by another delivery) after ingest read their number
    raised = _meanwhile(desk, monkeypatch, "answer", {
        "Key": {"PK": {"S": f"CONV#{conv}"}, "SK": {"S": f"CSAT#{cycle}"}},
        "UpdateExpression": "SET #s = :answered", "ExpressionAttributeNames": {"#s": "state"},
        "ExpressionAttributeValues": {":answered": {"S": "answered"}}})
    answer = post_twilio(desk, twilio_form(MessageSid="SMhcs4", From=phone, To="+14155550100", Body="4"))
    # Then the survey is closed (no erase refusal): the message is an ordinary one, the customer's next conversation
    assert raised == ["SurveyClosed", ""], raised
    assert answer["statusCode"] == 200 and _kept_requests(desk) == 0, answer
    assert _kinds(desk, conv, "csat_answer") == []
    stored = desk.item("EXTMSG#twilio#SMhcs4")
    assert stored is not None and stored["conversation_id"] != conv
    assert desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"] == stored["conversation_id"]


def test_a_survey_answer_no_mark_refuses_costs_what_it_did(desk, monkeypatch):
    from tests.integration.test_privacy_failed_hold import _requests_of

    # Given a survey waiting on a customer no erase ever held
    _settings(desk)
    conv = _resolved_sms_conversation(desk, "+31655501935", "SMhcscost")
    # When they rate the conversation
    made = _requests_of(desk, monkeypatch, lambda: _sms(desk, "+31655501935", "5", "SMhcs5"))
    # Then the rating is stored with the requests it took before its write asked for the identity on a refusal: the
    # identity's read, one transaction, the rating's work sent
    [_answer] = _kinds(desk, conv, "csat_answer")
    assert made == ["GetItem", "TransactWriteItems", "SendMessage"], made
