"""bench.cost still runs its workload (it once stopped at the widget's history, a 403 the widget API no longer
answers, and nothing noticed until the bench was next run): five conversations, one of each channel at least, priced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_cost_workload_runs_every_channel_and_prices_every_service_it_uses():
    # in a process of its own: the bench installs its meter in botocore and freezes the layer's clock
    code = "import json; from bench.cost import run; print(json.dumps(run(5), default=str))"
    path = os.pathsep.join([str(ROOT / "layers" / "shopdesk"), str(ROOT)])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    workload = result["workload"]
    assert workload["conversations_measured"] == 5 and workload["customer_messages"] == 30
    assert workload["agent_replies"] == 20 and workload["resolved"] == 5
    assert all(workload[f"conversations_{c}"] >= 1 for c in ("webchat", "email", "whatsapp", "sms"))
    assert {"ses", "dynamodb", "apigateway", "lambda", "sqs"} <= set(result["breakdown"])
    assert result["per_1000_conversations_usd"] > 0
