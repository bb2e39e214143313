"""bench.cost still runs its workload (it once stopped at the widget's history, a 403 the widget API no longer
answers, and nothing noticed until the bench was next run): five conversations, one of each channel at least, priced."""

from __future__ import annotations

from tests.support import bench_in_own_process


def test_the_cost_workload_runs_every_channel_and_prices_every_service_it_uses():
    result = bench_in_own_process("bench.cost.run(5)")
    workload = result["workload"]
    assert workload["conversations_measured"] == 5 and workload["customer_messages"] == 30
    assert workload["agent_replies"] == 20 and workload["resolved"] == 5
    assert all(workload[f"conversations_{c}"] >= 1 for c in ("webchat", "email", "whatsapp", "sms"))
    assert {"ses", "dynamodb", "apigateway", "lambda", "sqs"} <= set(result["breakdown"])
    assert result["per_1000_conversations_usd"] > 0
    # each function's requests a conversation (the router's per customer message: its own tests count one)
    by_function = result["per_conversation"]["requests_by_function"]
    assert by_function["router"] > 0
    assert abs(sum(by_function.values()) - sum(result["per_conversation"]["requests"].values())) < 0.2
