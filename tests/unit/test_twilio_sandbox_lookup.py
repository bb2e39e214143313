"""The local stack's Twilio sandbox lists the messages it accepted, as the dispatcher's lookup of an unrecorded
send reads them (#14); injected faults are for sends, never for the lookup."""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import UTC, datetime

from local.sandbox import Faults, Outbox, TwilioSandbox

SID, TOKEN = "AC" + "1" * 32, "secret"
AUTH = {"authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()}
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


def _sandbox() -> TwilioSandbox:
    return TwilioSandbox(SID, TOKEN, Outbox(), Faults(), callbacks=False,
                         now=lambda: datetime(2026, 12, 3, 14, 0, tzinfo=UTC))


def _send(sandbox: TwilioSandbox, to: str, body: str) -> dict:
    form = urllib.parse.urlencode({"To": to, "From": "+14155550100", "Body": body}).encode()
    status, _, answer = sandbox.handle("POST", PATH, "http://sandbox" + PATH, AUTH, form)
    assert status == 201
    return json.loads(answer)


def _list(sandbox: TwilioSandbox, **query: str) -> tuple[int, dict]:
    url = "http://sandbox" + PATH + "?" + urllib.parse.urlencode(query)
    status, _, answer = sandbox.handle("GET", PATH, url, AUTH, b"")
    return status, json.loads(answer)


def test_the_messages_list_answers_what_was_sent_between_two_numbers_newest_first():
    sandbox = _sandbox()
    first, _, last = (_send(sandbox, "+31611110000", "one"), _send(sandbox, "+31622220000", "other"),
                      _send(sandbox, "+31611110000", "two"))
    status, page = _list(sandbox, To="+31611110000", From="+14155550100", PageSize="20")
    assert status == 200 and [m["sid"] for m in page["messages"]] == [last["sid"], first["sid"]]
    assert page["messages"][0]["body"] == "two" and page["messages"][0]["date_created"]


def test_a_fault_injected_for_the_next_send_is_not_spent_on_a_lookup():
    sandbox = _sandbox()
    sandbox.faults.add("twilio", 503, 1)
    assert _list(sandbox, To="+31611110000", From="+14155550100")[0] == 200
    form = urllib.parse.urlencode({"To": "+31611110000", "From": "+14155550100", "Body": "x"}).encode()
    assert sandbox.handle("POST", PATH, "http://sandbox" + PATH, AUTH, form)[0] == 503


def test_the_list_asks_for_the_account_s_credentials_like_a_send():
    status, _ = TwilioSandbox(SID, TOKEN, Outbox(), Faults(), callbacks=False, now=lambda: datetime.now(UTC)).handle(
        "GET", PATH, "http://sandbox" + PATH, {}, b"")[0], None
    assert status == 401
