"""Agent API request models and the caller from JWT claims."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError

from shopdesk.api.agent import (
    NoteIn,
    PresenceIn,
    ReplyIn,
    RoutingIn,
    StatusIn,
    caller,
    caller_roles,
)
from shopdesk.models import ConversationStatus, Presence, Priority
from tests.support import http_event

# ------------------------------------------------------------------------------ request bodies

@pytest.mark.parametrize("text", ["", " ", "   \n\t  "])
def test_reply_without_text_is_refused(text):
    with pytest.raises(ValidationError):
        ReplyIn(text=text)


def test_reply_longer_than_any_channel_takes_is_refused():
    # (each channel's own limit, SMS's 1,600 characters, is the reply's: tests/integration/test_agent_api.py)
    with pytest.raises(ValidationError, match="10000"):
        ReplyIn(text="x" * 10_001)


def test_reply_as_long_as_an_email_takes_is_accepted():
    assert len(ReplyIn(text="x" * 10_000).text) == 10_000


def test_reply_text_is_trimmed():
    assert ReplyIn(text="  On its way! 📦 \n").text == "On its way! 📦"


def test_reply_is_measured_after_trimming():
    assert len(ReplyIn(text=" " + "x" * 1600 + " ").text) == 1600


def test_note_may_be_longer_than_a_reply():
    assert len(NoteIn(text="n" * 5000).text) == 5000


@pytest.mark.parametrize("status", ["closed", "OPEN", "", "deleted"])
def test_unknown_status_is_refused(status):
    with pytest.raises(ValidationError):
        StatusIn(status=status)


@pytest.mark.parametrize("status", list(ConversationStatus))
def test_every_conversation_status_is_accepted(status):
    assert StatusIn(status=status.value).status is status


def test_unknown_presence_is_refused():
    with pytest.raises(ValidationError):
        PresenceIn(presence="busy")
    assert PresenceIn(presence="away").presence is Presence.AWAY


@pytest.mark.parametrize("body", [{}, {"note": "only a note"}, {"priority": None, "team": None, "skills": None}])
def test_a_routing_change_that_changes_nothing_is_refused(body):
    with pytest.raises(ValidationError, match="priority, team or skills"):
        RoutingIn.model_validate(body)


@pytest.mark.parametrize("body", [{"priority": "critical"}, {"team": "Billing Team"}, {"skills": ["no spaces"]},
                                  {"priority": "high", "prio": "urgent"}, {"skills": ["x"] * 51}])
def test_a_routing_change_with_bad_values_or_unknown_fields_is_refused(body):
    with pytest.raises(ValidationError):
        RoutingIn.model_validate(body)


def test_a_routing_change_may_clear_the_skills_and_carry_a_trimmed_note():
    change = RoutingIn.model_validate({"skills": [], "priority": "urgent", "note": "  VIP  "})
    assert (change.skills, change.priority, change.note, change.team) == ([], Priority.URGENT, "VIP", None)


# ------------------------------------------------------------------------------ caller

def _event(claims: dict[str, str] | None) -> APIGatewayProxyEventV2:
    return APIGatewayProxyEventV2(http_event("GET", "/agent/me", claims=claims))


def test_caller_from_id_token_claims():
    claims = {"cognito:username": "alice", "name": "Alice Smith", "token_use": "id", "sub": "1b2c"}
    assert (caller(_event(claims)).id, caller(_event(claims)).name) == ("alice", "Alice Smith")


def test_caller_from_access_token_claims():
    claims = {"username": "bob", "token_use": "access", "client_id": "client", "sub": "3d4e"}
    assert (caller(_event(claims)).id, caller(_event(claims)).name) == ("bob", None)


def test_id_token_username_wins_over_username():
    assert caller(_event({"cognito:username": "alice", "username": "mallory"})).id == "alice"


def test_the_token_use_says_which_claim_names_the_agent():
    # An ID token names the agent in cognito:username, an access token in username: never the other one
    assert caller(_event({"cognito:username": "alice", "username": "mallory", "token_use": "id"})).id == "alice"
    assert caller(_event({"cognito:username": "mallory", "username": "bob", "token_use": "access"})).id == "bob"
    with pytest.raises(PermissionError):
        caller(_event({"username": "bob", "token_use": "id"}))
    with pytest.raises(PermissionError):
        caller(_event({"cognito:username": "alice", "token_use": "refresh"}))


def test_the_callers_roles_are_the_tokens_groups():
    who = caller(_event({"cognito:username": "lea", "cognito:groups": "[supervisors admins]", "token_use": "id"}))
    assert who.roles == {"supervisors", "admins"} and who.admin and who.supervisor and who.lead
    assert not caller(_event({"cognito:username": "al", "token_use": "id"})).lead


@pytest.mark.parametrize("claims", [None, {}, {"sub": "1b2c", "name": "No Name"}, {"cognito:username": ""}])
def test_token_that_names_no_agent_is_a_permission_error(claims):
    with pytest.raises(PermissionError):
        caller(_event(claims))


@pytest.mark.parametrize(("groups", "expected"), [
    ("[supervisors]", {"supervisors"}), ("[admins supervisors]", {"admins", "supervisors"}), (None, set())])
def test_caller_roles_are_the_cognito_groups_of_the_token(groups, expected):
    claims = {"cognito:username": "lead", **({"cognito:groups": groups} if groups else {})}
    assert caller_roles(_event(claims)) == expected


# ------------------------------------------------------------------------------ links the inbox puts in its page

@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", " JavaScript:alert(1)", "data:text/html,<b>x",
                                 "vbscript:x", "//evil.example/x", "file:///etc/passwd"])
def test_a_files_link_that_is_not_http_is_never_handed_to_the_inbox(url):
    # A provider's link to a file not kept (the inbox makes it a download link): only http and https
    from shopdesk.api.agent import AttachmentOut, MessageOut
    from shopdesk.models import Attachment, Direction, Message

    message = Message(id="m_1", conversation_id="c_1", direction=Direction.INBOUND, channel="instagram", text=None,
                      created_at="2026-12-01T10:00:00Z", attachments=[Attachment(url=url, content_type="image/png")])
    [shown] = MessageOut.of(message).attachments
    assert shown == AttachmentOut(url=None, content_type="image/png", note=shown.note) and shown.note


def test_a_providers_https_link_is_kept():
    from shopdesk.api.agent import MessageOut
    from shopdesk.models import Attachment, Direction, Message

    url = "https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oh=1"
    message = Message(id="m_1", conversation_id="c_1", direction=Direction.INBOUND, channel="instagram", text=None,
                      created_at="2026-12-01T10:00:00Z", attachments=[Attachment(url=url, content_type="image/jpeg")])
    assert MessageOut.of(message).attachments[0].url == url
