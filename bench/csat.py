"""CSAT figures: how well survey replies are understood, on the labelled set in tests/eval/csat_replies.jsonl
(written before the parser; see its header), overall and per language.

A reply counts as right when the parser's score equals the label's (null: "not an answer") and, for an
answer, when it keeps a comment exactly when the label says one follows.

    python -m bench.csat        writes the "csat" key of bench/results.json
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.harness import ROOT, save_result, use_layer

HERE = Path(__file__).resolve().parent
EVAL = ROOT / "tests" / "eval" / "csat_replies.jsonl"


def run() -> dict[str, Any]:
    use_layer()
    from shopdesk.csat.parse import parse_rating
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    right: dict[str, list[bool]] = defaultdict(list)
    score_right: dict[str, list[bool]] = defaultdict(list)
    wrong: list[dict[str, Any]] = []
    for row in rows:
        found = parse_rating(row["text"])
        score = found.score if found else None
        same_score = score == row["rating"]
        same = same_score and (found is None or (found.comment is not None) == row["comment"])
        right[row["language"]].append(same)
        score_right[row["language"]].append(same_score)
        if not same:
            wrong.append({"id": row["id"], "text": row["text"], "expected": row["rating"], "got": score,
                          "comment_expected": row["comment"], "comment_got": bool(found and found.comment)})
    every = [v for values in right.values() for v in values]
    scores = [v for values in score_right.values() for v in values]
    return {"parse_accuracy": round(sum(every) / len(every), 3),
            "score_accuracy": round(sum(scores) / len(scores), 3),
            "replies": len(every),
            "by_language": {lang: round(sum(v) / len(v), 3) for lang, v in sorted(right.items())},
            "wrong": wrong}


def report(result: dict[str, Any]) -> str:
    lines = [f"csat: parse accuracy {result['parse_accuracy']} (score alone {result['score_accuracy']}) on "
             f"{result['replies']} labelled replies",
             "  " + "  ".join(f"{lang} {acc}" for lang, acc in result["by_language"].items())]
    lines += [f"  wrong: {w['text']!r} expected {w['expected']} got {w['got']}" for w in result["wrong"]]
    return "\n".join(lines)


def main() -> None:
    result = run()
    print(report(result))
    save_result("csat", result)


if __name__ == "__main__":
    main()
