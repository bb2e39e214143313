"""One Lambda execution environment, run as a child process of the local stack (standard library only).

Like the Lambda Python runtime it imports the handler once (the cold start), then serves
invocations one at a time. The stack sends one JSON line per invocation on stdin and reads one
JSON line back on the original stdout; the function's own stdout and stderr both go to stderr,
which the stack logs line by line under the function's logical id. Before every invocation the
shared clock (``shopdesk.clock``) is moved to the stack's offset. Results are serialised like the
runtime does (Decimal as float); an exception becomes Lambda's errorMessage/errorType payload.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any

# This file is run by path: keep the local stack's own modules off the function's import path,
# and leave no __pycache__ behind in the function and layer folders.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]
sys.dont_write_bytecode = True


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, request_id: str, deadline_ms: int, function_arn: str) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _serialise(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _user_frames(error: BaseException) -> Any:
    """The traceback without this runtime's own frame, as Lambda shows it."""
    tb = error.__traceback__
    return tb.tb_next if tb is not None and tb.tb_frame.f_code.co_filename == __file__ else tb


def _error(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_tb(_user_frames(error)),
    }


def _load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def _clock_setter() -> Any:
    try:
        from shopdesk import clock  # type: ignore[import-not-found]
    except ImportError:
        return None
    return clock.set_offset


def main() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # the stack blocks it for itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stack stops its workers itself
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # the function's prints join its stderr in the stack's log

    started = time.perf_counter()
    try:
        handler = _load_handler(sys.argv[1])
    except Exception as error:  # an init failure is answered to the invocation, as Lambda does
        traceback.print_exc()
        module = sys.argv[1].rpartition(".")[0]
        if isinstance(error, ImportError):
            reply = {
                "errorMessage": f"Unable to import module '{module}': {error}",
                "errorType": "Runtime.ImportModuleError",
                "stackTrace": [],
            }
        elif isinstance(error, SyntaxError):
            reply = _error(error, "Runtime.UserCodeSyntaxError")
        else:
            reply = _error(error)
        protocol.write(json.dumps({"ready": False, "error": reply}) + "\n")
        return
    init_ms = (time.perf_counter() - started) * 1000
    protocol.write(json.dumps({"ready": True, "init_ms": init_ms}) + "\n")

    set_offset = _clock_setter()
    for line in sys.stdin:
        request = json.loads(line)
        if set_offset is not None:
            set_offset(request["clock_offset"])
        context = LambdaContext(request["request_id"], request["deadline_ms"], request["function_arn"])
        try:
            result = handler(request["event"], context)
            try:
                reply = json.dumps({"ok": True, "result": result}, default=_serialise)
            except (TypeError, ValueError) as error:
                reply = json.dumps({"ok": False, "error": _error(error, "Runtime.MarshalError")})
        except Exception as error:  # every handler error is reported, like Lambda
            print(f"[ERROR] {type(error).__name__}: {error}", file=sys.stderr)
            traceback.print_exception(type(error), error, _user_frames(error))
            reply = json.dumps({"ok": False, "error": _error(error)})
        protocol.write(reply + "\n")


if __name__ == "__main__":
    main()
