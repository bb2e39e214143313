"""What a function writes to its logs when an operator sets ``LogLevel`` to DEBUG (the template allows it, for an
investigation): Lambda's runtime then gives the root logger a handler at DEBUG, and every library that logs through
it would write there. The AWS SDK logs each request's parameters and each response's body at DEBUG: a message's
words and the customer's name and number in a PutItem, a secret's value in GetSecretValue's answer. None of that
may reach the logs (docs/security.md, section 7, "Logs carry no message text, addresses or tokens")."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from tests.integration.helpers import agent, online, post_twilio
from tests.support import AUTH_TOKEN, twilio_form

PHONE = "+31655507321"
NAME = "Gerardina Hoogstraten"
WORDS = "my parcel to Zaandam never came"


class _LambdasRootHandler(logging.StreamHandler):
    """The handler Lambda's runtime puts on the root logger before it imports the function (``awslambdaric``'s
    ``_setup_logging``), keeping what the function's own thread logs (the local AWS endpoint's server runs in other
    threads of this process, and is not a function's)."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.thread = threading.get_ident()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            super().emit(record)

    def text(self) -> str:
        return self.stream.getvalue()  # type: ignore[attr-defined]


@pytest.fixture
def lambda_debug_logs() -> Iterator[_LambdasRootHandler]:
    root = logging.getLogger()
    handler, level = _LambdasRootHandler(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)             # AWS_LAMBDA_LOG_LEVEL=DEBUG: the template's LogLevel
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_at_debug_no_library_writes_a_customers_words_name_number_or_a_secret_to_the_logs(desk, lambda_debug_logs,
                                                                                          capsys):
    # Given Lambda's root handler at DEBUG, which hears the SDK's lines (a call made before any function is started)
    desk.client("sqs").list_queues()
    assert "botocore.endpoint" in lambda_debug_logs.text()
    # and functions started by Lambda under it
    online(desk, "alice")
    # When a named customer writes on WhatsApp, the router gives it to alice and she opens it and replies
    form = twilio_form(MessageSid="SMdebuglog1", From=f"whatsapp:{PHONE}", To="whatsapp:+14155550100", Body=WORDS,
                       ProfileName=NAME)
    assert post_twilio(desk, form)["statusCode"] == 200
    conversation = desk.item(f"IDENTITY#phone#{PHONE}")["open_conversation_id"]
    desk.drain_queue(desk.work_queue_url, "router")
    status, opened = agent(desk, "GET", f"/agent/conversations/{conversation}", "alice")
    assert status == 200 and NAME in json.dumps(opened)
    assert agent(desk, "POST", f"/agent/conversations/{conversation}/replies", "alice",
                 {"text": "Sorry Gerardina, we will send it again"})[0] == 202
    # Then no line holds the customer's words, name or number, the reply, or a secret the functions read
    logged = lambda_debug_logs.text() + capsys.readouterr().out
    for trace in (WORDS, NAME, "Gerardina", PHONE, PHONE[1:], AUTH_TOKEN, "test-session-secret"):
        assert trace not in logged, trace
