"""A one-time code proves an email address only if it cannot be guessed: the codes tried for one address are counted
for the address, whatever chats they come from. A shop signs a new visitor for every page view, so a guesser has as
many chats as they like: five wrong codes per code and a limit per visitor alone would let them try 3,600 codes a
day against one address (a code every two minutes, five tries each), a one-in-300 chance a day of joining the
customer's history (docs/security.md, section 3b)."""

from __future__ import annotations

from shopdesk import clock
from shopdesk.channels import webchat
from tests.integration.test_customers import _code_mailed_to, _customer_id, _email
from tests.integration.test_widget import _call as _widget

VICTIM = "vera@example.com"


def _session(desk, visitor_id: str) -> str:
    """A chat of its own, its visitor signed by the shop as of the desk's clock (which the test moves on)."""
    token = webchat.sign_visitor_token({"visitor_id": visitor_id, "exp": int(clock.now().timestamp()) + 600},
                                       "test-visitor-secret")
    status, body, _ = _widget(desk, "POST", "/widget/sessions", {"visitor_token": token})
    assert status == 201, body
    return body["session"]


def _wrong(code: str) -> list[str]:
    return [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code][:5]


def test_codes_tried_for_one_address_from_any_number_of_chats_are_held_to_ten_an_hour(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer known by her email
    _email(desk, f"Vera <{VICTIM}>", "hello by mail", "e-vera")
    vera = _customer_id(desk, "email", VICTIM)
    # When a guesser opens a new chat every five minutes (past each limit of a chat and of the codes mailed to the
    # address), asks a code for her address in each and tries five wrong codes with it
    answers = []
    for n in range(3):
        clock.set_offset(n * 300)
        session = _session(desk, f"guesser-{n}")
        assert _widget(desk, "POST", "/widget/email-verification", {"email": VICTIM}, session)[0] == 202
        answers += [_widget(desk, "POST", "/widget/email-verification/confirm", {"code": guess}, session)
                    for guess in _wrong(_code_mailed_to(VICTIM))]
    # Then ten codes were compared (not fifteen): the others are refused before any is, with the wait
    statuses = [status for status, _, _ in answers]
    assert statuses == [400] * 10 + [429] * 5, statuses
    assert all(int(result["headers"]["Retry-After"]) >= 1 for status, _, result in answers if status == 429)
    assert not [n for n in range(3) if (desk.item(f"IDENTITY#webchat#guesser-{n}") or {}).get("customer_id") == vera]
    # and once the hour has given the address a try back, her own code from her own chat links her
    clock.set_offset(3 * 300 + 3600)
    own = _session(desk, "vera-chat")
    assert _widget(desk, "POST", "/widget/email-verification", {"email": VICTIM}, own)[0] == 202
    status, body, _ = _widget(desk, "POST", "/widget/email-verification/confirm", {"code": _code_mailed_to(VICTIM)},
                              own)
    assert status == 200 and body == {"verified": True, "linked": True}, body
    assert _customer_id(desk, "webchat", "vera-chat") == vera


def test_codes_mailed_to_one_address_from_any_number_of_chats_are_held_to_a_few_a_day(desk):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from tests.support import ses_recipients
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    before = len([m for m in sent if VICTIM in ses_recipients(m)])
    # When someone opens a new chat every ten minutes for six hours and asks a code for the same address in each
    # (past each chat's limit and the address's two minutes between codes)
    statuses = []
    for n in range(36):
        clock.set_offset(n * 600)
        statuses.append(_widget(desk, "POST", "/widget/email-verification", {"email": VICTIM},
                                _session(desk, f"mailer-{n}"))[0])
    # Then the address got six codes and one each two hours since (not 36): the others were refused, nothing mailed
    mailed = len([m for m in sent if VICTIM in ses_recipients(m)]) - before
    assert statuses.count(202) == mailed <= 9 and set(statuses) == {202, 429}, statuses
    assert statuses[:6] == [202] * 6 and statuses[6] == 429, statuses
