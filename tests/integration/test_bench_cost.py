"""bench.cost still runs its workload (it once stopped at the widget's history, a 403 the widget API no longer
answers, and nothing noticed until the bench was next run): five conversations, one of each channel at least, priced.
And it models the agents' inbox sockets as AWS runs them: real time is the simulated time."""

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
    # The agents' inbox sockets live their token's hour of simulated time (in AWS the desk's clock is real time):
    # the sweep closes each when its timer comes due, never moving the timer on (as it did while the sockets' real
    # time was this machine's), and the inbox connects again with a fresh token, its $connect counted
    per = result["per_conversation"]
    assert not [k for k in per["dynamodb_write_units_by_item"] if k.startswith("sla_sweep PutItem CONN DEADLINE")]
    sockets = workload["inbox_sockets"]
    assert sockets["expiry_timer_moves_write_units"] == 0
    assert sockets["closed"] >= 3 * 5                   # the six hours after the last step alone: five each
    assert sockets["connects"] == sockets["closed"] and sockets["catch_ups"] == sockets["closed"]
    assert 60 <= sockets["open_min"]["shortest"] <= sockets["open_min"]["longest"] <= 60 + 15   # a sweep each 15 min
    # ... and their reconnects are a cost of agent-hours, not of conversations: the cycle (the sweep's close, the
    # $disconnect, the authorizer, the $connect, the catch-up) is measured apart and priced per agent a month
    assert "live_authorizer" not in per["lambda_invocations"] and "live_connections" not in per["lambda_invocations"]
    assert "apigatewaymanagementapi.DeleteConnection" not in per["requests"]
    assert not [k for k in per["dynamodb_write_units_by_item"]       # (the visitors' sockets are the conversations')
                if k.split()[0] in ("sla_sweep", "live_fanout", "live_connections") and " CONN" in k]
    cycle = sockets["per_reconnect"]
    assert cycle["invocations"]["live_authorizer"] == 1.0 and cycle["invocations"]["live_connections"] == 2.0
    assert cycle["invocations"]["agent_api"] >= 1.0                   # the catch-up: a page, or more
    assert cycle["requests"]["apigatewaymanagementapi.DeleteConnection"] == 1.0
    assert cycle["write_units"] > 0 and cycle["websocket_messages"] == 2.0
    fixed = result["fixed_monthly_usd"]
    assert fixed["inbox_reconnect_usd"] == cycle["usd"] > 0
    assert fixed["inbox_reconnects"] == round(cycle["usd"] * 176, 5) > 0
    # So is the inbox's ping every 5 minutes while its socket is open (web/src/live.ts, {"type": "ping"}): through
    # the route the template gives the frame ($default: live_connections, which posts a pong), metered apart from
    # the conversations and priced per agent a month at 12 an agent-hour
    ping = sockets["per_ping"]
    assert ping["route"] == "$default" and ping["invocations"] == {"live_connections": 1.0}
    assert ping["requests"] == {"apigatewaymanagementapi.PostToConnection": 1.0}      # the pong; nothing of the table
    assert ping["websocket_messages"] == 2.0 and ping["read_units"] == ping["write_units"] == 0   # the ping, the pong
    assert {"apigateway", "lambda", "cloudwatch_logs"} <= set(ping["by_service"])
    assert abs(sum(ping["by_service"].values()) - ping["usd"]) < 1e-7
    assert ping["by_service"]["apigateway"] == 2 / 1_000_000                           # two messages at $1 a million
    assert fixed["inbox_ping_usd"] == ping["usd"] > 0
    assert fixed["inbox_pings_per_agent_month"] == 12 * 176
    assert fixed["inbox_pings"] == round(ping["usd"] * 12 * 176, 5) > 0
    # The operator's side: the template's alarms and dashboard, and the custom metrics the functions' EMF lines wrote
    # (one per name and dimension values: MessagesReceived once per channel the workload used, the service with it)
    watch = fixed["monitoring"]
    assert watch["alarm_metrics"] > 36 and watch["dashboards"] == 1
    assert watch["metrics_by_name"]["MessagesReceived"] >= 3 and "RepliesSent" in watch["metrics_by_name"]
    assert watch["custom_metrics"] == sum(watch["metrics_by_name"].values())
    assert watch["usd"] >= 3.0 + 0.10 * watch["alarm_metrics"] + 0.30 * watch["custom_metrics"] - 0.01
