"""``python -m local [--template PATH]``: run the whole system on one machine until SIGINT/SIGTERM.

Environment (all optional): PORT (3000), WS_PORT (the WebSocket APIs; PORT + 1, 0 for any free
port), TEMPLATE (template.yaml), REGION (us-east-1),
PARAMETER_OVERRIDES (``Key=Value ...``), PUBLIC_BASE_URL, LOCAL_CONCURRENCY (4), SEED_AGENTS
(alice,bob), SANDBOX_STATUS_CALLBACKS (1), LOCAL_LOG_LEVEL (INFO), SES_FROM_ADDRESS
(support@shop.example), WEB_BUILD (1: build web/ when its sources changed), LIVE_IDLE_TIMEOUT_S (600: a
WebSocket with no message either way this long is closed, as API Gateway does; 0 never), and the provider
secrets (fake defaults in local/settings.py):
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN, META_ACCESS_TOKEN,
TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN, WEBCHAT_VISITOR_SECRET, WEBCHAT_SESSION_SECRET.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from local.settings import Settings
from local.stack import Stack

SWITCH_INTERVAL_S = 0.001


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%H:%M:%S") + f".{int(record.msecs):03d}"
        text = f"{stamp} {record.levelname:<7} {record.name:<22} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description="shopdesk on one machine")
    parser.add_argument("--template", help="SAM template to run (default: $TEMPLATE or template.yaml)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(args.template)
    # This process is many threads (a thread per HTTP request to the gateway and to moto, the pollers) taking turns
    # at one GIL, most of them back from a socket after a few microseconds of work: at the default 5 ms switch
    # interval each waits out the running thread's turn. At 1 ms the load bench accepted 896 a minute against
    # 839-841 at 5 ms, for 12% more CPU in this process (bench/README.md).
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log = logging.getLogger("stack")

    # Block the stop signals in every thread (workers unblock them), and wait for them below with
    # sigwaitinfo, which says who sent them: useful when something else stops the stack.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    stack = Stack(settings)
    try:
        log.info("starting from %s", settings.template)
        stack.start()
        threading.Thread(target=stack.seed, daemon=True, name="seed").start()
        received = signal.sigwaitinfo(stop_signals)
        log.info("stopping on %s from pid %d", signal.Signals(received.si_signo).name, received.si_pid)
    except Exception:
        log.exception("the local stack could not start")
        return 1
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is stopped by now; skip the interpreter's slow teardown of moto's module state.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)
