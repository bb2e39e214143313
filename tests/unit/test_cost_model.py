"""The cost bench's model (bench/pricing.py): item sizes by DynamoDB's rules, request units with their rounding,
index writes, and a known request mix priced to the cent-fraction; and the workload's channels (bench/cost.py):
their mix, the widget's polling cadence, what is billed as an HTTP API request."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from bench.pricing import (
    PRICES,
    Index,
    Usage,
    bill,
    chunks,
    index_write_units,
    item_size,
    lambda_gb_seconds,
    number_size,
    read_units,
    write_units,
)

KEYS = ("PK", "SK")
INBOX = Index("Inbox", ("InboxPK", "InboxSK"), "ALL")
KEYS_ONLY = Index("Due", ("DuePK", "DueSK"), "KEYS_ONLY")


def test_item_size_counts_names_and_values_as_dynamodb_documents():
    # "PK"(2) + "CONV#1"(6), "n"(1) + 12345 (3 digits pairs -> 3 + 1), "ok"(2) + 1, "tags"(4) + list: 3 + 2 x (1 + 1)
    item = {"PK": {"S": "CONV#1"}, "n": {"N": "12345"}, "ok": {"BOOL": True},
            "tags": {"L": [{"S": "a"}, {"S": "b"}]}}
    assert item_size(item) == 8 + 5 + 3 + 11
    # a map: 3 + per entry 1 + name + value; UTF-8 counts bytes, not characters
    assert item_size({"m": {"M": {"é": {"S": "ü"}}}}) == 1 + 3 + 1 + 2 + 2
    assert item_size(None) == 0


def test_numbers_take_a_byte_per_two_significant_digits_plus_one():
    assert number_size("0") == 1
    assert number_size("7") == 2
    assert number_size("1200") == 2          # trailing zeros trimmed: "12"
    assert number_size("-0.00123") == 3      # "123"
    assert number_size("123456") == 4


def test_request_units_round_up_and_reads_halve_when_eventually_consistent():
    assert write_units(1) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(1025, transactional=True) == 4
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(0, consistent=False) == 0.5          # a miss still costs the minimum
    assert read_units(5000, consistent=True, transactional=True) == 4.0


def test_an_index_write_is_a_put_a_delete_both_or_nothing():
    old = {"PK": {"S": "c"}, "SK": {"S": "META"}, "InboxPK": {"S": "INBOX#a"}, "InboxSK": {"S": "open#1"},
           "body": {"S": "x" * 1500}}
    moved = {**old, "InboxSK": {"S": "open#2"}}                      # the sort key changed: delete + put
    assert index_write_units(INBOX, KEYS, old, moved) == 2 + 2
    assert index_write_units(INBOX, KEYS, None, old) == 2             # enters the sparse index
    assert index_write_units(INBOX, KEYS, old, None) == 2             # leaves it
    assert index_write_units(INBOX, KEYS, old, dict(old)) == 0        # nothing projected changed
    grown = {**old, "note": {"S": "y" * 600}}                         # same keys, bigger entry: one update
    assert index_write_units(INBOX, KEYS, old, grown) == write_units(item_size(grown)) == 3
    outside = {"PK": {"S": "c"}, "SK": {"S": "MSG#1"}}
    assert index_write_units(INBOX, KEYS, outside, {**outside, "x": {"S": "1"}}) == 0
    # KEYS_ONLY projects the table and index keys only: a big body does not make its entry bigger
    due = {"PK": {"S": "c"}, "SK": {"S": "DUE"}, "DuePK": {"S": "DUE#1"}, "DueSK": {"S": "t"},
           "body": {"S": "x" * 3000}}
    assert index_write_units(KEYS_ONLY, KEYS, None, due) == 1


def test_metered_increments_are_at_least_one():
    assert chunks(0, 64 * 1024) == 1
    assert chunks(64 * 1024, 64 * 1024) == 1
    assert chunks(64 * 1024 + 1, 64 * 1024) == 2


def test_a_known_request_mix_is_priced_exactly():
    # Given a million of each kind of request, and Lambda time at two memory sizes
    usage = Usage()
    usage.add("lambda.requests", 1_000_000)                    # $0.20
    usage.add("apigateway.http_requests", 2_000_000)           # $2.00
    usage.add("dynamodb.write_request_units", 4_000_000)       # $2.50
    usage.add("dynamodb.read_request_units", 8_000_000)        # $1.00
    usage.add("sqs.fifo_requests", 1_000_000)                  # $0.50
    usage.add("firehose.ingested_gb", 10)                      # $0.29
    usage.add("s3.put_requests", 1_000)                        # $0.005
    usage.add("secretsmanager.api_calls", 10_000)              # $0.05
    usage.add("xray.traces_recorded", 200_000)                 # $1.00
    # 1,000,000 ms at 512 MB = 500 GB-s, 1,000,000 ms at 1,024 MB = 1,000 GB-s: 1,500 GB-s x $0.0000133334
    usage.lambda_gb_seconds["agent_api"] = lambda_gb_seconds(1_000_000, 512)
    usage.lambda_gb_seconds["router"] = lambda_gb_seconds(1_000_000, 1024)

    # When it is billed
    result = bill(usage)

    # Then every line is the list price times the quantity, and the services add up to the total
    assert result["by_line"]["lambda.gb_seconds_arm64"] == Decimal("0.0200001")
    assert result["by_service"] == {
        "lambda": Decimal("0.2200001"), "apigateway": Decimal("2.00"), "dynamodb": Decimal("3.500"),
        "sqs": Decimal("0.50"), "firehose": Decimal("0.290"), "s3": Decimal("0.005"),
        "secretsmanager": Decimal("0.05"), "xray": Decimal("1.00")}
    assert result["total"] == Decimal("7.5650001")


def test_a_quantity_without_a_price_is_refused():
    with pytest.raises(KeyError):
        Usage().add("dynamodb.magic_units", 1)
    assert all(price.usd > 0 and price.per > 0 for price in PRICES.values())


def test_an_index_that_includes_a_few_attributes_is_written_only_when_they_or_its_keys_change():
    include = Index("ByCustomer", ("CustomerPK", "CustomerSK"), "INCLUDE", ("type", "id", "team"))
    old = {"PK": {"S": "c"}, "SK": {"S": "META"}, "CustomerPK": {"S": "CUSTOMER#1"}, "CustomerSK": {"S": "t0"},
           "type": {"S": "conversation"}, "id": {"S": "c"}, "team": {"S": "default"}, "body": {"S": "x" * 3000}}
    assert index_write_units(include, KEYS, None, old) == 1                 # its entry is small
    assert index_write_units(include, KEYS, old, {**old, "body": {"S": "y" * 3000}}) == 0
    assert index_write_units(include, KEYS, old, {**old, "team": {"S": "billing"}}) == 1


@pytest.mark.parametrize("overrides,expected", [
    ({}, (False, 0)),                                                       # the template's defaults
    ({"TracingMode": "Active", "SystemLogLevel": "INFO"}, (True, 330)),
])
def test_tracing_and_lambdas_own_log_lines_follow_the_templates_parameters(monkeypatch, overrides, expected):
    import bench.cost as cost
    import bench.harness as harness
    monkeypatch.setattr(harness, "PARAMETERS", {**harness.PARAMETERS, **overrides})
    cost.traced.cache_clear()
    cost.platform_log_bytes.cache_clear()
    try:
        assert (cost.traced("router"), cost.platform_log_bytes("router")) == expected
    finally:
        cost.traced.cache_clear()
        cost.platform_log_bytes.cache_clear()


def test_email_is_priced_at_ses_list_prices_and_its_notifications_at_sns_ones():
    # Given a thousand mails received (one 256 KB chunk each, one a little larger), a thousand sent, and their events
    usage = Usage()
    usage.add("ses.inbound_emails", 1_000)                              # $0.10
    usage.add("ses.inbound_chunks", 999 + chunks(300 * 1024, 256 * 1024))   # 999 of one chunk, one of two: $0.09009
    usage.add("ses.outbound_emails", 1_000)                             # $0.10
    usage.add("sns.publishes", 1_000_000)                               # $0.50
    usage.add("sns.http_deliveries", 1_000_000)                         # $0.60
    # Then
    assert bill(usage)["by_service"] == {"ses": Decimal("0.29009"), "sns": Decimal("1.10")}


def test_every_ten_conversations_have_the_channel_mix_in_a_seeded_order():
    import bench.cost as cost

    plan = cost.channel_plan(20)
    assert plan == cost.channel_plan(20)                                 # deterministic
    for start in (0, 10):
        assert {c: plan[start:start + 10].count(c) for c in cost.CHANNEL_MIX} == cost.CHANNEL_MIX
    assert set(plan[:5]) == set(cost.CHANNEL_MIX)                        # --quick measures every channel
    assert plan[9] != plan[19]                                           # the two late answers on two channels
    assert len(cost.channel_plan(7)) == 7


def test_the_widgets_polling_follows_its_controllers_cadence():
    import bench.cost as cost

    # controller.ts: 3 s within a minute of a message either way, 10 s while open and quiet, 30 s while closed
    source = (Path(__file__).resolve().parents[2] / "web" / "src" / "widget" / "controller.ts").read_text()
    for name, value in (("ACTIVE_POLL_S", cost.ACTIVE_POLL_S), ("QUIET_POLL_S", cost.QUIET_POLL_S),
                        ("CLOSED_POLL_S", cost.CLOSED_POLL_S), ("ACTIVE_S", cost.ACTIVE_S),
                        ("LIVE_POLL_S", cost.LIVE_POLL_S), ("KEEPALIVE_S", cost.KEEPALIVE_S)):
        assert f"export const {name} = {value};" in source
    assert cost.poll_every(now=1_000.0, moved_at=1_000.0, socket_open=True) == 60     # the socket says when
    assert cost.poll_every(now=1_000.0, moved_at=1_000.0) == 3
    assert cost.poll_every(now=1_059.0, moved_at=1_000.0) == 3
    assert cost.poll_every(now=1_060.0, moved_at=1_000.0) == 10
    assert cost.poll_every(now=1_000.0, moved_at=1_000.0, widget_open=False) == 30


def test_the_widgets_socket_sends_a_keepalive_each_nine_minutes_it_stays_open_and_is_never_closed_idle():
    import bench.cost as cost

    assert cost.KEEPALIVE_S == 540 < cost.IDLE_CLOSE.total_seconds()      # before API Gateway's 10 idle minutes
    # from the socket's opening, one at each KEEPALIVE_S it is still open (none for a socket closed sooner)
    assert [cost.keepalives_sent(s) for s in (0, 60, 540, 541, 1080, 1081, 54.2 * 60)] == [0, 0, 0, 1, 1, 2, 6]


def test_only_api_gateways_http_requests_are_billed_as_such():
    import bench.cost as cost

    from tests.support import http_event

    assert cost._through_http_api(http_event("GET", "/widget/messages"))
    assert not cost._through_http_api({"Records": [{"s3": {}}]})                    # SES's mail, through S3
    assert not cost._through_http_api({"requestContext": {"routeKey": "$connect", "eventType": "CONNECT"}})
    assert not cost._through_http_api({"source": "aws.scheduler", "detail": {}})


def test_each_api_request_adds_its_access_log_line_as_the_templates_format_writes_it():
    import bench.cost as cost

    # the HTTP APIs' and the WebSocket stages' formats, rendered: one JSON line each, with every field
    http, websocket = cost.access_log_bytes("http"), cost.access_log_bytes("websocket")
    assert 150 <= http <= 300 and 150 <= websocket <= 300
    formats = [r["Properties"]["AccessLogSettings"]["Format"] for r in cost._template()["Resources"].values()
               if r["Type"] in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Stage")
               and "AccessLogSettings" in (r.get("Properties") or {})]
    assert len(formats) >= 4                  # the agents' and the widget's HTTP APIs and WebSocket APIs
    for fmt in formats:
        line = re.sub(r"\$context\.([\w.]+)", lambda m: cost._CONTEXT_SAMPLE.get(m[1], "-"), fmt)
        assert set(json.loads(line)) and len(line.encode()) + 1 <= max(http, websocket)


def test_a_sockets_close_in_the_sweep_or_the_fan_out_is_metered_as_the_inboxs_reconnect():
    import bench.cost as cost

    def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    socket = "alice.3-inbox"
    close = [("dynamodb", "GetItem", {"TableName": "t", "Key": key(f"CONN#{socket}", "META")}),
             ("apigatewaymanagementapi", "DeleteConnection", {"ConnectionId": socket}),
             ("dynamodb", "BatchWriteItem", {"RequestItems": {"t": [
                 {"DeleteRequest": {"Key": key(f"CONN#{socket}", "META")}},
                 {"DeleteRequest": {"Key": key("LIVE#agent:alice", f"CONN#{socket}")}}]}}),
             ("dynamodb", "DeleteItem", {"TableName": "t", "Key": key(f"CONN#{socket}", "DEADLINE#socket_expiry")})]
    for function in ("sla_sweep", "live_fanout"):
        assert [cost.socket_close_label(function, *request) for request in close] == [f"{function} (reconnect)"] * 4
    # the conversations' own work, a visitor's socket, a timer moved on (a write AWS never makes: left in the
    # figure, where it shows) and what the inbox's own functions do (metered under the label from the start)
    assert cost.socket_close_label("sla_sweep", "dynamodb", "DeleteItem",
                                   {"TableName": "t", "Key": key("CONV#c1", "DEADLINE#first_response")}) is None
    assert cost.socket_close_label("live_fanout", "apigatewaymanagementapi", "DeleteConnection",
                                   {"ConnectionId": "v-widget"}) is None
    assert cost.socket_close_label("sla_sweep", "dynamodb", "PutItem", {"TableName": "t", "Item": {
        **key(f"CONN#{socket}", "DEADLINE#socket_expiry"), "due_at": {"S": "x"}}}) is None
    assert cost.socket_close_label("sla_sweep", "dynamodb", "BatchWriteItem", {"RequestItems": {"t": [
        {"DeleteRequest": {"Key": key(f"CONN#{socket}", "META")}},
        {"DeleteRequest": {"Key": key("CONV#c1", "META")}}]}}) is None
    assert cost.socket_close_label("router", "apigatewaymanagementapi", "DeleteConnection",
                                   {"ConnectionId": socket}) is None


def test_the_meter_counts_a_request_under_the_label_the_close_rule_gives():
    from types import SimpleNamespace

    import bench.cost as cost

    meter = cost.Meter(KEYS, [], reroute=cost.socket_close_label)
    model = SimpleNamespace(name="DeleteConnection", service_model=SimpleNamespace(
        service_name="apigatewaymanagementapi"))
    meter.current = "sla_sweep"
    meter._after(SimpleNamespace(status_code=204), {}, model, {"cost_params": {"ConnectionId": "bob.1-inbox"}})
    meter._after(SimpleNamespace(status_code=204), {}, model, {"cost_params": {"ConnectionId": "v-widget"}})
    assert meter.requests == {("sla_sweep (reconnect)", "apigatewaymanagementapi", "DeleteConnection"): 1,
                              ("sla_sweep", "apigatewaymanagementapi", "DeleteConnection"): 1}


def test_the_inboxes_reconnects_are_a_fixed_cost_of_agent_hours():
    import bench.cost as cost

    # one reconnect an hour an agent has the inbox open: 8 hours a day, 22 days (the connection minutes' assumption)
    assert cost.AGENT_HOURS_MONTH == 176
    idle = {"billed_ms": 60.0, "quantities": {"dynamodb.read_request_units": 8.0}, "requests": {}}
    fixed = cost.fixed_monthly(idle, reconnect_usd=Decimal("0.0000095"))
    assert fixed["inbox_reconnect_usd"] == 0.0000095
    assert fixed["inbox_reconnects"] == round(0.0000095 * 176, 5) == 0.00167     # an agent's month
    assert fixed["inbox_reconnects_per_agent_month"] == 176
    assert fixed["sla_sweep_schedule"] == cost.fixed_monthly(idle)["sla_sweep_schedule"]


def test_a_channels_share_holds_none_of_the_inboxes_reconnects():
    import bench.cost as cost

    meter = cost.Meter(KEYS, [])
    before = cost._snapshot(meter)
    meter.usage_by_function["router"].add("lambda.requests", 2)
    meter.usage_by_function["live_connections (reconnect)"].add("lambda.requests", 1)
    meter.billed_ms.update({"router": 40, "live_connections (reconnect)": 30})
    share = cost.ChannelShare()
    share.add(before, meter)
    assert dict(share.quantities) == {"router": {"lambda.requests": 2}} and share.billed_ms == {"router": 40}


def test_a_frame_takes_the_route_the_templates_selection_expression_gives_it():
    import bench.cost as cost

    # the inbox's ping has no "action": $default, whose integration is live_connections (it answers a pong)
    assert cost.websocket_route("LiveApi", cost.PING_FRAME) == ("$default", "live_connections")
    assert cost.PING_FRAME == '{"type":"ping"}'                  # web/src/live.ts: JSON.stringify({ type: "ping" })
    # the widget's keepalive names an action no route has: $default too, a MOCK integration (nothing runs)
    assert cost.websocket_route("WidgetLiveApi", '{"action":"keepalive"}') == ("$default", None)
    assert cost.websocket_route("LiveApi", "not json") == ("$default", "live_connections")


def test_the_inboxes_pings_are_a_fixed_cost_of_agent_hours():
    import bench.cost as cost

    # one every 5 minutes (live.ts pingMs) an agent has the inbox open: 12 an hour, 176 hours a month
    assert cost.PINGS_PER_AGENT_HOUR == 12 and cost.PING_EVERY.total_seconds() == 300
    idle = {"billed_ms": 60.0, "quantities": {}, "requests": {}}
    fixed = cost.fixed_monthly(idle, reconnect_usd=Decimal("0.0000095"), ping_usd=Decimal("0.0000025"))
    assert fixed["inbox_ping_usd"] == 0.0000025
    assert fixed["inbox_pings_per_agent_month"] == 12 * 176
    assert fixed["inbox_pings"] == round(0.0000025 * 12 * 176, 5) == 0.00528      # an agent's month
    assert fixed["inbox_reconnects"] == 0.00167                                   # beside the reconnects, apart
    assert "inbox_pings" not in cost.fixed_monthly(idle, reconnect_usd=Decimal("0.0000095"))


def test_a_cost_measured_apart_is_taken_out_of_the_meter_and_priced_per_event():
    import bench.cost as cost

    meter = cost.Meter(KEYS, [])
    meter.usage_by_function["router"].add("lambda.requests", 2)
    for _ in range(4):
        meter.usage_by_function["live_connections (ping)"].add("lambda.requests", 1)
        meter.usage_by_function["live_connections (ping)"].add("apigateway.websocket_messages", 2)
        meter.requests[("live_connections (ping)", "apigatewaymanagementapi", "PostToConnection")] += 1
        meter.invocations["live_connections (ping)"] += 1
    meter.billed_ms["live_connections (ping)"] = 40
    figure = cost.priced_apart(meter, {"live_connections (ping)"}, 4)
    # per ping: a request ($0.20 a million), two messages ($1 a million), 10 ms at 256 MB
    lambda_usd = Decimal("0.20") / 1_000_000 + Decimal("0.0000133334") * Decimal("0.01") * 256 / 1024
    assert figure["usd"] == float(round(lambda_usd + Decimal(2) / 1_000_000, 8))
    assert figure["invocations"] == {"live_connections": 1.0} and figure["websocket_messages"] == 2.0
    assert figure["requests"] == {"apigatewaymanagementapi.PostToConnection": 1.0}
    assert "live_connections (ping)" not in meter.usage_by_function and not meter.invocations["live_connections (ping)"]
    assert set(meter.usage_by_function) == {"router"} and not meter.requests


def test_the_custom_metrics_an_invocation_writes_are_read_from_its_emf_lines():
    import bench.cost as cost

    # two lines as Powertools' single_metric writes them (shopdesk.metrics), cut where print's writes cut them
    received = ('{"_aws":{"Timestamp":1796607489430,"CloudWatchMetrics":[{"Namespace":"shopdesk","Dimensions":'
                '[["channel","service"]],"Metrics":[{"Name":"MessagesReceived","Unit":"Count"}]}]},"channel":"sms",'
                '"service":"router","MessagesReceived":[1.0]}')
    failed = ('{"_aws":{"Timestamp":1796607489430,"CloudWatchMetrics":[{"Namespace":"shopdesk","Dimensions":'
              '[["service"]],"Metrics":[{"Name":"RepliesFailed","Unit":"Count"}]}]},"service":"router",'
              '"RepliesFailed":[1.0]}')
    output = cost._CountingWriter()
    for text in (received[:40], received[40:], "\n", '{"level":"INFO","message":"CloudWatchMetrics"}\n', failed,
                 "\n", received + "\n", received.replace('"sms"', '"email"') + "\n", "not json\n"):
        output.write(text)
    assert output.metrics == {("shopdesk", "MessagesReceived", (("channel", "sms"), ("service", "router"))),
                              ("shopdesk", "MessagesReceived", (("channel", "email"), ("service", "router"))),
                              ("shopdesk", "RepliesFailed", (("service", "router"),))}
    assert output.bytes == len(received) * 3 + len(failed) + 5 + 47 + 9 + 1       # every byte still counted


def test_the_operators_side_is_a_fixed_cost_read_from_the_template_and_the_workloads_metrics():
    import bench.cost as cost

    template = cost._template()["Resources"]
    alarms = [r["Properties"] for r in template.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # an alarm on one metric is one; a metric-math alarm is each metric it reads (the DLQ alarms read two)
    assert cost.alarm_metrics() > len(alarms) - 3
    # those a parameter's condition deploys (search's, off by default as in the workload) are apart
    conditional = [r for r in template.values() if r["Type"] == "AWS::CloudWatch::Alarm" and "Condition" in r]
    assert conditional and all(r["Condition"] == "SearchOn" for r in conditional)
    assert cost.alarm_metrics(conditional=True) == sum(
        sum(1 for m in r["Properties"]["Metrics"] if "MetricStat" in m) if "Metrics" in r["Properties"] else 1
        for r in conditional) > 0
    dlq = template["WorkNewDeadLetterAlarm"]["Properties"]
    assert sum(1 for m in dlq["Metrics"] if "MetricStat" in m) == 2
    watch = cost.monitoring_monthly(custom_metrics=20)
    assert watch["dashboards"] == 1 and watch["custom_metrics"] == 20
    assert watch["alarm_metrics_with_search"] == cost.alarm_metrics(conditional=True)
    assert watch["by_line"] == {"cloudwatch.alarm_metric_months": round(0.10 * cost.alarm_metrics(), 2),
                                "cloudwatch.dashboard_months": 3.0, "cloudwatch.custom_metric_months": 6.0}
    assert watch["usd"] == round(sum(watch["by_line"].values()), 2)
    idle = {"billed_ms": 60.0, "quantities": {}, "requests": {}}
    assert cost.fixed_monthly(idle, custom_metrics=20)["monitoring"] == watch
    assert "monitoring" not in cost.fixed_monthly(idle)


def test_the_topics_key_is_a_fixed_cost_with_at_most_the_requests_sns_makes_for_its_publishers():
    import bench.cost as cost

    # the template's customer-managed key encrypts the operations topic (CloudWatch publishes) and the email
    # events' (SES publishes); no function publishes to either
    keys = cost.keys_monthly()
    assert keys["keys"] == 1
    assert keys["publishers"] == {"OperationsAlertTopic": ["cloudwatch.amazonaws.com"],
                                  "EmailEventsTopic": ["ses.amazonaws.com"]}
    # SNS asks KMS twice (GenerateDataKey, Decrypt) per publisher each 5 minutes it publishes: 2 x 8,640 x 2
    assert keys["requests_at_most"] == 2 * (30 * 24 * 12) * 2 == 34_560
    assert keys["by_line"] == {"kms.key_months": 1.0, "kms.requests": round(34_560 * 0.03 / 10_000, 2)}
    assert keys["usd"] == 1.1
    # each of the key's first two yearly rotations adds $1 a month
    assert keys["usd_from_third_year"] == 3.1
    idle = {"billed_ms": 60.0, "quantities": {}, "requests": {}}
    assert cost.fixed_monthly(idle)["keys"] == keys


def test_an_agents_inbox_socket_is_open_its_hours_and_billed_by_the_minute():
    import bench.cost as cost

    fixed = cost.fixed_monthly({"billed_ms": 60.0, "quantities": {}, "requests": {}})
    assert fixed["inbox_connection_minutes_per_agent_month"] == 176 * 60 == 10_560
    assert fixed["inbox_connection_minutes"] == round(10_560 * 0.25 / 1_000_000, 5) == 0.00264


def test_the_benchs_customer_mail_carries_the_threads_ids_as_a_client_writes_them():
    import bench.cost as cost

    from shopdesk.channels.email import parse_email

    # SES's Message-IDs are longer than a 78-character line: written whole, never as encoded words a reader skips
    ses = [f"<0100018c{n:08x}-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000@email.amazonses.com>" for n in range(3)]
    raw = cost._mail("ann@customer.example", "Re: my order", "Still waiting", "<m4@customer.example>", ses,
                     quoted="Thanks for writing")
    assert b"=?utf-8?q?" not in raw and all(line_id.encode() in raw for line_id in ses)
    email = parse_email(raw, shop_addresses=[cost.SUPPORT]).message.email
    assert email.references == [i.strip("<>") for i in ses] and email.in_reply_to == [ses[-1].strip("<>")]


def _said(id_: str, direction: str = "inbound", author: str | None = None, text: str | None = "words") -> dict:
    return {"id": id_, "direction": direction, "author": author, "text": text}


class _Desk:
    """The agent API as the inbox model reads it: the open conversation's messages, the orders panel's source."""

    def __init__(self, source: str = "cache") -> None:
        self.messages: list[dict] = []
        self.source = source

    def call(self, function: str, event: dict, label: str | None = None) -> dict:
        path, query = event["rawPath"], event["rawQueryString"]
        if path.endswith("/orders"):
            body: dict = {"items": [], "source": self.source}
        elif path.endswith("/assist"):
            body = {"suggestion": None}
        else:
            body = {"id": "c1", "customer": {"id": "cu"}, "messages": list(self.messages),
                    "message_count": len(self.messages)}
            if "include=" in query:
                body["included"] = {"customer": {}, "duplicates": {}, "orders": {"source": self.source},
                                    "assist": {"suggestion": None}}
        return {"statusCode": 200, "body": json.dumps(body)}


def test_the_inboxes_assist_panel_reads_again_only_when_the_customers_question_changes():
    """As web/src/kbAssist.ts assistQuestion: the customer's messages with words since an agent last answered (an
    acknowledgement's or the bot's answer does not count), the latest three; none once an agent has answered."""
    from bench.cost import Inboxes, assist_question

    assert assist_question([_said("m1"), _said("m2", "outbound"), _said("m3", "outbound", "bot"),
                            _said("m4", "note", "bob"), _said("m5", "inbound", text=None)]) == "m1"
    assert assist_question([_said("m1"), _said("m2", "outbound", "alice")]) == ""
    assert assist_question([_said(f"m{n}") for n in range(5)]) == "m2,m3,m4"

    desk = _Desk()
    inboxes = Inboxes(desk)  # type: ignore[arg-type]
    desk.messages = [_said("m1")]
    inboxes.open_conversation("alice", "c1")
    desk.messages += [_said("m2", "outbound"), _said("m3", "outbound", "bot")]      # the acknowledgement, the bot
    inboxes.refresh_open("alice")
    assert inboxes.requests["GET /agent/conversations/{id}/assist"] == 0
    desk.messages += [_said("m4", "outbound", "alice")]                                  # alice answers
    inboxes.refresh_open("alice")
    assert inboxes.requests["GET /agent/conversations/{id}/assist"] == 0
    desk.messages += [_said("m5")]                                                       # the customer writes again
    inboxes.refresh_open("alice")
    assert inboxes.requests["GET /agent/conversations/{id}/assist"] == 1


@pytest.mark.parametrize(("source", "reads"), [("cache", 1), ("none", 0)])
def test_the_inboxes_orders_panel_reads_again_on_a_customer_message_unless_no_shop_is_connected(source, reads):
    from bench.cost import Inboxes

    desk = _Desk(source)
    inboxes = Inboxes(desk)  # type: ignore[arg-type]
    desk.messages = [_said("m1")]
    inboxes.open_conversation("alice", "c1")
    desk.messages += [_said("m2")]
    inboxes.refresh_open("alice")
    assert inboxes.requests["GET /agent/conversations/{id}/orders"] == reads
