"""Logs carry no message text, addresses or tokens: the one scrubbing logger every function uses."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid

from shopdesk.logs import REDACTED, logger_for, scrub_text
from tests.support import ROOT


def _capture(emit) -> list[dict]:
    stream = io.StringIO()
    logger = logger_for(service=f"scrub-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(stream))
    emit(logger)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_sensitive_fields_are_redacted_at_any_depth_and_ids_kept():
    [line] = _capture(lambda log: log.info("reply queued", extra={
        "conversation_id": "c_01J", "text": "Hi Anna, your parcel", "customer": {"name": "Anna de Vries",
                                                                                  "phone": "+31612345678"},
        "headers": {"Authorization": "Bearer abc"}, "count": 3}))
    assert line["conversation_id"] == "c_01J" and line["count"] == 3
    assert line["text"] == REDACTED and line["customer"] == {"name": REDACTED, "phone": REDACTED}
    assert line["headers"] == REDACTED


def test_one_time_codes_stay_scrubbed_and_a_providers_error_code_is_shown():
    [line] = _capture(lambda log: log.warning("reply failed", extra={
        "code": "493817", "otp": "493817", "provider": "twilio", "provider_code": "21610"}))
    assert line["code"] == REDACTED and line["otp"] == REDACTED
    assert (line["provider"], line["provider_code"]) == ("twilio", "21610")


def test_the_keys_shopdesk_generates_are_redacted_wherever_a_secret_s_fields_are_logged():
    [line] = _capture(lambda log: log.info("secret read", extra={
        "webchat": {"session_secret": "s3ssion-key-value"}, "marks": {"hash_key": "h4sh-key-value"}}))
    assert line["webchat"] == {"session_secret": REDACTED} and line["marks"] == {"hash_key": REDACTED}


def test_addresses_tokens_and_cards_in_free_text_and_exceptions_are_scrubbed():
    def emit(log):
        try:
            raise ValueError("no customer anna@example.com at +31 6 12345678 (card 4242 4242 4242 4242)")
        except ValueError:
            log.exception("failed for anna@example.com with token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    [line] = _capture(emit)
    text = json.dumps(line)
    for secret in ("anna@example.com", "12345678", "4242 4242", "eyJhbGciOiJSUzI1NiJ9"):
        assert secret not in text
    assert "[email]" in line["message"] and "[token]" in line["message"]


def test_a_card_number_grouped_by_a_full_width_hyphen_or_an_invisible_character_is_scrubbed_as_in_messages():
    # the same matcher as a message's: full-width digits and hyphens (an input method's), a soft hyphen (pasted)
    full_width = "\uff0d".join(["\uff14\uff11\uff11\uff11"] + ["\uff11\uff11\uff11\uff11"] * 3)
    text = scrub_text(f"charge failed for {full_width}, retried with 4111\u00ad1111\u00ad1111\u00ad1111")
    assert text == "charge failed for [card •••• 1111], retried with [card •••• 1111]"


def test_pydantic_input_values_are_not_logged():
    text = ("1 validation error for InboundMessage\ncustomer_address\n  String should have at most 320 characters "
            "[type=string_too_long, input_value='Anna de Vries wrote this', input_type=str]")
    assert "Anna" not in scrub_text(text)


def test_ids_times_and_order_numbers_stay_readable():
    text = "conversation c_01JABC message m_01JABD order 1001 at 2026-12-03T11:00:00.000Z took 120 ms"
    assert scrub_text(text) == text


def test_every_function_logs_through_the_scrubbing_logger():
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        source = app.read_text()
        assert "logger_for(" in source, f"{app.parent.name} does not use shopdesk.logs.logger_for"
        assert not re.search(r"\bLogger\((?!child=True)", source), f"{app.parent.name} builds its own Logger"


def test_on_lambdas_root_handler_a_librarys_line_is_written_only_at_warning_and_scrubbed():
    # Given the handler Lambda's runtime puts on the root logger, at DEBUG, before the function starts its logger
    stream = io.StringIO()
    root_handler = logging.StreamHandler(stream)
    root_handler.setFormatter(logging.Formatter("%(name)s %(message)s %(exc_info)s"))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(root_handler)
    root.setLevel(logging.DEBUG)
    try:
        service = f"scrub-{uuid.uuid4().hex}"
        logger_for(service=service, logger_handler=logging.StreamHandler(io.StringIO()))
        # When a library logs a request's body at DEBUG and a retry at WARNING, with its exception
        library = logging.getLogger(f"lib{uuid.uuid4().hex}.connection")
        library.debug("request body: {'Body': 'Hi, anna@example.com here, my parcel never came'}")
        library.info("response body: {'SecretString': 's3cret-value'}")
        try:
            raise ConnectionError("reset while sending to +31612345678")
        except ConnectionError:
            library.warning("retrying the request for anna@example.com", exc_info=True)
    finally:
        root.removeHandler(root_handler)
        root.setLevel(level)
    written = stream.getvalue()
    # Then the DEBUG and INFO lines are not written, and the warning is, scrubbed, with its exception's text
    assert "parcel" not in written and "s3cret-value" not in written
    assert "retrying the request for [email]" in written and "ConnectionError" in written
    assert "anna@example.com" not in written and "12345678" not in written


def test_a_librarys_line_whose_arguments_do_not_fit_its_format_is_written_not_raised_into_the_library():
    # Given Lambda's root handler and the function's logger
    stream = io.StringIO()
    root_handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(root_handler)
    try:
        logger_for(service=f"scrub-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(io.StringIO()))
        # When a library logs a warning whose arguments its format cannot take (logging itself only reports that)
        logging.getLogger(f"lib{uuid.uuid4().hex}").warning("retrying %s for %s", "anna@example.com")
    finally:
        root.removeHandler(root_handler)
    # Then the call returned, and the line was written scrubbed
    assert "retrying %s for %s" in stream.getvalue() and "anna@example.com" not in stream.getvalue()


def test_every_functions_handler_enters_through_its_loggers_inject_lambda_context():
    # the entry that gives Lambda's runtime a FunctionFailed in place of an escaping exception (shopdesk.logs): the
    # outermost decorator of every handler, so nothing the handler runs is outside it
    decorators = re.compile(r"((?:^@[^\n]*\n)+)def lambda_handler\(", re.MULTILINE)
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        found = decorators.search(app.read_text())
        assert found and re.match(r"@logger\.inject_lambda_context\b", found.group(1)), \
            f"{app.parent.name}'s lambda_handler does not enter through it first"
