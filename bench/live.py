"""Live inbox latency on the local stack: a customer's SMS accepted -> the notice on an open WebSocket.

One agent (bob) holds a socket to the template's WebSocket API, authorised with his ID token. Customers
write one after another (signed Twilio webhooks, a few customers taking turns); for each message the
time runs from the webhook's 200 to the arrival of the first ``kind: message`` frame that names a message
not seen before. Afterwards every such frame is checked against the conversation's timeline: it must
name that customer's inbound message. The path measured is the one in AWS: the inbound function's
write -> the table's stream (polled four times a second, as Lambda's event source does) -> the fan-out
function (change log, one Query per audience) -> @connections PostToConnection -> the socket.

    python -m bench.live [--messages 50]    writes inbox.ws_notice_ms into bench/results.json

Only that key is rewritten (read-modify-write); the rest of the file is kept as it is.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse
import uuid
from pathlib import Path
from statistics import mean
from typing import Any

from bench.assignment import ENVIRONMENT, local_stack, percentile
from bench.harness import twilio_form

RESULTS = Path(__file__).with_name("results.json")
AGENT = "bob"
CUSTOMERS = [f"+1555020{n:04d}" for n in range(5)]
WARM_UP = 3


def _frame(socket: Any, known: set[str], timeout: float) -> tuple[dict[str, Any], float]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no notice within {timeout} s")
        frame = json.loads(socket.recv(timeout=remaining))
        if frame.get("kind") == "message" and frame.get("message_id") not in known:
            return frame, time.monotonic()


def _quiet(socket: Any, seconds: float) -> set[str]:
    """Frames until none came for ``seconds``: the message ids they named."""
    seen = set()
    while True:
        try:
            frame = json.loads(socket.recv(timeout=seconds))
        except TimeoutError:
            return seen
        if frame.get("message_id"):
            seen.add(frame["message_id"])


def run(messages: int) -> dict[str, Any]:
    from websockets.sync.client import connect

    with local_stack({"WS_PORT": "0", "LOCAL_LOG_LEVEL": "WARNING"}) as stack:
        token = stack.token(AGENT)
        ws_url = stack.ok(stack.get("/_local/websocket"), "GET /_local/websocket")["url"]
        samples: list[tuple[str, float, dict[str, Any]]] = []
        with connect(f"{ws_url}?token={urllib.parse.quote(token)}", open_timeout=60) as socket:
            known: set[str] = set()
            for n in range(WARM_UP + messages):
                phone = CUSTOMERS[n % len(CUSTOMERS)]
                form = twilio_form(MessageSid="SM" + uuid.uuid4().hex, From=phone, To="+14155550100",
                                   Body=f"message {n}")
                answer = stack.send_twilio(form)
                accepted = time.monotonic()
                if answer.status != 200:
                    raise RuntimeError(f"webhook answered {answer.status}: {answer.text[:200]}")
                frame, arrived = _frame(socket, known, timeout=30)
                known.add(frame["message_id"])
                if n < len(CUSTOMERS):
                    known |= _quiet(socket, 1.5)     # assignment notes and acknowledgements of a new conversation
                if n >= WARM_UP:
                    samples.append((phone, (arrived - accepted) * 1000, frame))
                time.sleep(0.1)
        wrong = _check(stack, token, samples)
    values = [ms for _, ms, _ in samples]
    return {
        "what": "webhook 200 -> the notice frame on an open WebSocket (local stack, client clock)",
        "messages": len(values), "warm_up": WARM_UP,
        "p50": round(percentile(values, 50) or 0, 1), "p95": round(percentile(values, 95) or 0, 1),
        "max": round(max(values), 1), "mean": round(mean(values), 1),
        "target_ms": 2000, "frames_not_naming_the_inbound_message": wrong,
        "environment": ENVIRONMENT, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _check(stack: Any, token: str, samples: list[tuple[str, float, dict[str, Any]]]) -> int:
    """Frames whose message is not an inbound message of the conversation they name."""
    timelines: dict[str, dict[str, str]] = {}
    wrong = 0
    for _, _, frame in samples:
        conv = frame["conversation_id"]
        if conv not in timelines:
            document = stack.ok(stack.get(f"/agent/conversations/{conv}", token), "GET conversation")
            timelines[conv] = {m["id"]: m["direction"] for m in document["messages"]}
        wrong += timelines[conv].get(frame["message_id"]) != "inbound"
    return wrong


def save(figure: dict[str, Any], path: Path = RESULTS) -> None:
    """Read-modify-write: only ``inbox.ws_notice_ms`` changes."""
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results.setdefault("inbox", {})["ws_notice_ms"] = figure
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--no-save", action="store_true", help="print only; leave bench/results.json alone")
    args = parser.parse_args()
    figure = run(args.messages)
    print(json.dumps(figure, indent=2))
    if not args.no_save:
        save(figure)
        print(f"written: inbox.ws_notice_ms in {RESULTS.name}")


if __name__ == "__main__":
    main()
