"""A web-chat visitor's right code that could not link them at that moment (the address's customer was being erased,
or their identities were being written) is answered 503 "retry"; the erase of the address's customer takes every code
asked for the address, whichever chat asked, so a new code links it then."""

from __future__ import annotations

import json

from shopdesk import clock
from shopdesk.dal.table import Table
from shopdesk.dal.verifications import PendingCode, Verifications
from shopdesk.logic.verify_email import MAX_ATTEMPTS
from tests.integration.test_customers import _code_mailed_to, _customer_id, _email
from tests.integration.test_privacy import admin, run_jobs
from tests.integration.test_widget import _call as _widget
from tests.integration.test_widget import _session

CONFIRM = "/widget/email-verification/confirm"


def _items(desk) -> list[dict]:
    return desk.client("dynamodb").scan(TableName=desk.table_name)["Items"]


def test_a_right_code_met_by_an_erase_under_way_is_a_503_and_a_new_code_links_once_the_erase_is_done(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer known by email, and a web-chat visitor who asked for a code for that address
    _email(desk, "Cleo <cleo@example.com>", "hello by mail", "e-cleo")
    cleo = _customer_id(desk, "email", "cleo@example.com")
    session = _session(desk, "visitor-cleo")
    assert _widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "hi"}, session)[0] == 201
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "cleo@example.com"}, session)[0] == 202
    code = _code_mailed_to("cleo@example.com")
    # And an admin's erase of that customer, started and not yet run
    assert admin(desk, "POST", f"/admin/customers/{cleo}/erase")[0] == 202
    # When the visitor types the right code: the link cannot be made now, and the answer says to retry
    status, body, _ = _widget(desk, "POST", CONFIRM, {"code": code}, session)
    assert status == 503 and body["type"] == "/problems/unavailable", body
    # Then, the erase done, that code went with the address's customer: a new one links the address to the visitor
    run_jobs(desk)
    status, body, _ = _widget(desk, "POST", CONFIRM, {"code": code}, session)
    assert status == 400 and "no code is pending" in body["detail"], body
    clock.set_offset(clock.offset() + 121)       # a code every two minutes at most
    assert _widget(desk, "POST", "/widget/email-verification", {"email": "cleo@example.com"}, session)[0] == 202
    code = _code_mailed_to("cleo@example.com")
    status, body, _ = _widget(desk, "POST", CONFIRM, {"code": code}, session)
    assert status == 200 and body == {"verified": True, "linked": True}, body
    visitor = _customer_id(desk, "webchat", "visitor-cleo")
    assert _customer_id(desk, "email", "cleo@example.com") == visitor != cleo
    # and it is used up now
    assert _widget(desk, "POST", CONFIRM, {"code": code}, session)[0] == 400


def test_a_used_code_counted_wrong_by_a_concurrent_attempt_is_never_used_a_second_time(desk):
    # Given a code read by three confirmations at once (the used marker keeps the code's hash, for the restore)
    codes = Verifications(Table(desk.table_name))
    codes.put(PendingCode(visitor_id="visitor-dan", email="dan@example.com", code_hash="h1",
                          expires_at=int(clock.now().timestamp()) + 600, attempts=0))
    read = codes.get("visitor-dan")
    assert read is not None
    # When the first uses it, and the second, a wrong code, counts its attempt after that
    assert codes.use(read, MAX_ATTEMPTS)
    codes.wrong_attempt(read)
    # Then the third, the right code too, finds it used: a one-time code links once
    assert not codes.use(read, MAX_ATTEMPTS)
    assert codes.get("visitor-dan") is None


def test_the_erase_of_a_customer_takes_the_codes_other_chats_asked_for_their_address(desk):
    desk.client("ses").verify_email_identity(EmailAddress="support@shop.example")
    # Given a customer known by email, and two web-chat visitors, none of theirs, who typed that address for a code
    _email(desk, "Edda <edda@example.com>", "hello by mail", "e-edda")
    edda = _customer_id(desk, "email", "edda@example.com")
    for visitor in ("visitor-typo", "visitor-guess"):
        session = _session(desk, visitor)
        assert _widget(desk, "POST", "/widget/messages", {"client_message_id": "w1", "text": "hi"}, session)[0] == 201
        assert _widget(desk, "POST", "/widget/email-verification", {"email": "edda@example.com"}, session)[0] == 202
        clock.set_offset(clock.offset() + 121)
    code = _code_mailed_to("edda@example.com")
    assert len([i for i in _items(desk) if "edda@example.com" in json.dumps(i) and i["type"]["S"] == "otp"]) == 2
    # When the customer is erased
    assert admin(desk, "POST", f"/admin/customers/{edda}/erase")[0] == 202
    run_jobs(desk)
    # Then no code item names the address any more, nor any item of the codes' their pointers left
    assert [i for i in _items(desk) if "edda@example.com" in json.dumps(i)] == []
    assert [i["PK"]["S"] for i in _items(desk) if i["PK"]["S"].startswith(("OTPFOR#", "OTP#visitor-"))] == []
    # and the code mailed last cannot link the address to the chat that asked for it
    status, body, _ = _widget(desk, "POST", CONFIRM, {"code": code}, session)
    assert status == 400, body
