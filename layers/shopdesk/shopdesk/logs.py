"""Every function's logger: Powertools' JSON logger with a scrubbing formatter, so logs carry no message
text, no customer addresses and no tokens.

One place: each function builds its logger with ``logger_for()`` (tests/unit/test_logs.py checks that every
function does), and the layer's modules log through Powertools child loggers, which write through it. Before
a line is written:

- values under keys that hold what customers wrote or who they are (``text``, ``body``, ``subject``, ``name``,
  ``email``, ``phone``, ``address``, ``to``, ``from``, ``payload``, ``raw``, ``q``, …) and secrets (``token``,
  ``authorization``, ``secret``, ``password``, ``code``: one-time codes, …) are replaced by ``[redacted]``, at any
  depth (a provider's error code, which the on-call needs, is logged as ``provider_code``);
- in every other string (the message, exception text and stack traces included): email addresses become
  ``[email]``, phone numbers (libphonenumber's matcher, and any ``+`` followed by 7-15 digits) ``[phone]``,
  JSON Web Tokens and bearer tokens ``[token]``, card numbers and IBANs are masked like messages are, and
  the ``input_value=…`` that pydantic puts in its errors becomes ``[redacted]``.

The libraries log through the root logger instead, to the handler Lambda's runtime puts there before the function is
imported, at the level the template's ``LogLevel`` gives it. At DEBUG the AWS SDK writes every request's parameters
and every response's body (a message's words in a PutItem, a secret's value in GetSecretValue's answer), which no
scrubbing can make safe: on those handlers a library's line (any logger outside the service's) is written only at
WARNING or above, and scrubbed as every line, its exception folded into its text (``LibraryLines``).

Ids (conversation, message, customer, provider ids) stay: they are how an operator follows a problem, and
they name no one.

An exception that escapes a handler would be written by Lambda's runtime itself, not through this logger: its text
as the invocation's ``errorMessage`` and its stack's lines as ``stackTrace``, to the function's log and to a caller
that invoked it directly, where a library's exception can echo what a customer wrote (pydantic's ``input_value``,
Powertools' ``BatchProcessingError`` with every record's exception and stack in its text, a document a decoder or a
service echoes). The one entry every handler goes through, this logger's ``inject_lambda_context``, catches it,
logs it once here (``function failed``: its type, its text and traceback scrubbed) and raises in its place a
``FunctionFailed`` naming only its type and the request whose line holds it, ``from None``: the invocation still
fails, so Lambda retries, bisects and dead-letters as before, and the runtime writes nothing the customer said.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from shopdesk.privacy.masking import mask

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset({
    "text", "body", "subject", "name", "customer_name", "profile_name", "first_name", "last_name", "email",
    "phone", "address", "addresses", "customer_address", "to", "from", "sender", "reply_to", "recipients",
    "payload", "raw", "q", "query", "preview", "quoted_text", "note", "reason_text", "headers", "cookie",
    "token", "id_token", "access_token", "authorization", "secret", "password", "code", "otp", "signature",
    "visitor_secret", "session_secret", "hash_key", "auth_token", "app_secret", "client_secret", "api_key",
})
_EMAIL = re.compile(r"[A-Za-z0-9][\w.+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,18}\d(?!\w)")
_JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]{8,}")
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=|\]$|\n|$)", re.DOTALL)
MAX_STRING = 20_000


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+"):
        return 7 <= len(digits) <= 15
    try:
        from shopdesk.phone import find_phones
    except ImportError:          # the layer without phone data: leave national numbers
        return False
    return bool(find_phones(candidate, None))


def scrub_text(value: str) -> str:
    value = value[:MAX_STRING]
    value = _PYDANTIC_INPUT.sub("input_value=" + REDACTED, value)
    value = _JWT.sub("[token]", value)
    value = _BEARER.sub(r"\1[token]", value)
    value = _EMAIL.sub("[email]", value)
    value = mask(value).text or ""
    return _PHONE.sub(lambda m: "[phone]" if _is_phone(m.group(0)) else m.group(0), value)


def scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_text(str(value))          # an exception, a datetime, a model: as the JSON encoder would write it


# Powertools' own keys: left as they are (the message and exception text are scrubbed as text)
_OWN_KEYS = frozenset({"level", "location", "timestamp", "service", "cold_start", "function_name",
                       "function_memory_size", "function_arn", "function_request_id", "correlation_id",
                       "xray_trace_id", "sampling_rate", "exception_name"})


class ScrubbingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any]) -> str:
        clean = {k: (v if k in _OWN_KEYS else scrub(v, None if k in ("message", "exception", "stack_trace") else k))
                 for k, v in log.items()}
        return super().serialize(clean)


class LibraryLines(logging.Filter):
    """On a root handler: the lines of loggers outside ``service`` (the libraries': the AWS SDK, urllib3, ...) only at
    WARNING or above, each scrubbed, with its exception (which Lambda's JSON formatter writes from the record)
    folded into its text; the service's own lines pass as they are (its logger has scrubbed them)."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == self.service or record.name.startswith(self.service + "."):
            return True
        if record.levelno < logging.WARNING:
            return False
        try:
            text = record.getMessage()
        except Exception:      # arguments its format cannot take: written as logging would say it, never raised
            text = f"{record.msg} {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info, record.exc_text = scrub_text(text), None, None, None
        return True


class FunctionFailed(Exception):
    """What Lambda's runtime is given of an exception that escaped a handler: its type and the request whose
    ``function failed`` line holds it, scrubbed; nothing it said."""


# The one answer Lambda's runtime is meant to be given as it is: API Gateway's authorizers answer 401 on it.
_PASSED = frozenset({"Unauthorized"})


class FunctionLogger(Logger):
    """Powertools' ``Logger`` whose ``inject_lambda_context``, the entry every handler goes through, hands Lambda's
    runtime a ``FunctionFailed`` in place of an exception that escapes the handler, logged once here first."""

    def inject_lambda_context(self, lambda_handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        if lambda_handler is None:
            return functools.partial(self.inject_lambda_context, **options)
        return super().inject_lambda_context(self._failing_quietly(lambda_handler), **options)

    def _failing_quietly(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def run(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return handler(event, context, *args, **kwargs)
            except Exception as error:
                if isinstance(error, FunctionFailed) or (type(error) is Exception and str(error) in _PASSED):
                    raise
                request = getattr(context, "aws_request_id", None) or "-"
                self.exception("function failed", extra={"error_type": type(error).__name__})
                raise FunctionFailed(f"{type(error).__name__} (logged as {request})") from None
        return run


def logger_for(**kwargs: Any) -> Logger:
    """The function's logger (Powertools ``Logger``), scrubbing every line it and its child loggers write, its
    ``inject_lambda_context`` giving Lambda's runtime no exception's text (``FunctionLogger``); and the handlers on
    the root logger (Lambda's runtime's) given ``LibraryLines``."""
    logger = FunctionLogger(logger_formatter=ScrubbingFormatter(), **kwargs)
    for handler in logging.root.handlers:
        if type(handler).__name__ == "LogCaptureHandler" and type(handler).__module__ == "_pytest.logging":
            continue            # pytest's caplog, as Powertools leaves it (tests read every line they log)
        if not any(isinstance(f, LibraryLines) and f.service == logger.service for f in handler.filters):
            handler.addFilter(LibraryLines(logger.service))
    return logger
