"""schemathesis hooks for fuzzing the shopdesk APIs on the local stack (loaded with SCHEMATHESIS_HOOKS).

- The widget's calls carry a fresh visitor session each (the shop signs a visitor token, the widget starts a
  session), so its per-visitor rate limits do not turn every case into a 429.
- Conversation ids are drawn from real conversations as well as generated ones, so the fuzzer reaches the
  routes' logic instead of stopping at 404.
- The reports API's metric names and periods are drawn from real ones as well as generated ones.

Configured from the environment by the runner (tests/e2e/api_fuzz.py).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from typing import Any

import schemathesis
from hypothesis import strategies as st

from shopdesk.analytics.reports import METRICS
from shopdesk.channels import webchat

BASE_URL = os.environ.get("SHOPDESK_FUZZ_BASE_URL", "")
ORIGIN = os.environ.get("SHOPDESK_FUZZ_ORIGIN", "")
VISITOR_SECRET = os.environ.get("SHOPDESK_FUZZ_VISITOR_SECRET", "")
CONVERSATIONS = [c for c in os.environ.get("SHOPDESK_FUZZ_CONVERSATIONS", "").split(",") if c]


def widget_session() -> str:
    """A session of a new visitor, as the widget starts one."""
    visitor = {"visitor_id": f"fuzz-{uuid.uuid4().hex[:12]}", "name": "Fuzz", "exp": int(time.time()) + 600}
    body = json.dumps({"visitor_token": webchat.sign_visitor_token(visitor, VISITOR_SECRET)}).encode()
    request = urllib.request.Request(f"{BASE_URL}/widget/sessions", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Origin": ORIGIN})
    with urllib.request.urlopen(request, timeout=30) as answer:  # the local stack, loopback
        return str(json.load(answer)["session"])


@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/widget/(messages|attachments)$")
class WidgetSession:
    def get(self, case: Any, context: Any) -> str:
        return widget_session()

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    if CONVERSATIONS and "conversation_id" in (path_parameters or {}):
        return st.sampled_from([path_parameters["conversation_id"], *CONVERSATIONS]).map(
            lambda chosen: {**path_parameters, "conversation_id": chosen})
    return st.just(path_parameters)


# The reports API: real metric names and real periods as well as generated ones, so the fuzzer reaches every
# statement (each group, CSV too) instead of stopping at "unknown metric" or "not a date".
REPORT_METRICS = sorted(METRICS)
PERIODS = [("2026-11-30", "2026-12-07"), ("2026-12-01T09:00:00+01:00", "2026-12-01T17:30:00+01:00"),
           ("2026-01-01", "2027-01-01")]


@schemathesis.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    if not query or ("metric" not in query and "from" not in query):
        return st.just(query)
    metric = st.sampled_from([query["metric"], *REPORT_METRICS]) if "metric" in query else st.just(None)
    period = st.sampled_from([(query.get("from"), query.get("to")), *PERIODS])

    def build(chosen: tuple[str | None, tuple[Any, Any]]) -> dict[str, Any]:
        name, (start, end) = chosen
        out = {**query, "from": start, "to": end}
        if name is not None:
            out["metric"] = name
        return {k: v for k, v in out.items() if v is not None}
    return st.tuples(metric, period).map(build)
