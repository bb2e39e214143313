"""Thank-yous after a resolve: how many are kept on the resolved conversation instead of opening another, and
whether any request is kept there unseen, on the labelled set in tests/eval/thanks_after_resolve.jsonl (written
before ``shopdesk.understanding.closing``; see tests/eval/README.md).

- ``kept_recall``: of the messages that only thank, the share ``only_thanks`` keeps;
- ``swallowed``: of the messages an agent must read, how many it would keep unseen (the goal is 0).

    python -m bench.thanks        writes the "thanks" key of bench/results.json
"""

from __future__ import annotations

import json
from typing import Any

from bench.harness import ROOT, save_result, use_layer

EVAL = ROOT / "tests" / "eval" / "thanks_after_resolve.jsonl"


def run() -> dict[str, Any]:
    use_layer()
    from shopdesk.understanding.closing import only_thanks
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    thanks = [r for r in rows if r["only_thanks"]]
    requests = [r for r in rows if not r["only_thanks"]]
    missed = [r for r in thanks if not only_thanks(r["text"])]
    swallowed = [r for r in requests if only_thanks(r["text"])]
    return {"kept_recall": round(1 - len(missed) / len(thanks), 3), "thanks": len(thanks),
            "swallowed": len(swallowed), "requests": len(requests),
            "missed": [r["text"] for r in missed], "swallowed_texts": [r["text"] for r in swallowed]}


def report(result: dict[str, Any]) -> str:
    lines = [f"thanks: {result['kept_recall']:.1%} of {result['thanks']} thank-yous kept on the resolved "
             f"conversation; {result['swallowed']} of {result['requests']} requests kept unseen"]
    lines += [f"  opens a conversation: {text!r}" for text in result["missed"]]
    lines += [f"  SWALLOWED: {text!r}" for text in result["swallowed_texts"]]
    return "\n".join(lines)


def main() -> None:
    result = run()
    print(report(result))
    save_result("thanks", result)


if __name__ == "__main__":
    main()
