"""Run in a fresh interpreter by bench/cold_start.py: time one cold start, print it as JSON.

    python bench/probe.py boto3                 import boto3 + one DynamoDB client (the baseline)
    python bench/probe.py <function> [event]    import functions/<function>/app.py with the
                                                environment it was given; with an event file, then
                                                time the first invocation too

Imports almost nothing before the clock starts (json only afterwards), so nothing a handler
needs is warm when it is timed.
"""

import importlib.util
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Context:
    function_name = "probe"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    aws_request_id = "probe-request"
    log_group_name = "/aws/lambda/probe"
    log_stream_name = "probe"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _count_clients() -> list[str]:
    """Record the service of every botocore client created from now on (boto3 is imported by now)."""
    import botocore.session

    created: list[str] = []
    create = botocore.session.Session.create_client

    def counting(self: botocore.session.Session, service_name: str, *args: object, **kwargs: object) -> object:
        created.append(service_name)
        return create(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = counting  # type: ignore[method-assign]
    return created


def main(target: str, event_file: str | None) -> dict[str, object]:
    sys.path.insert(0, os.path.join(ROOT, "layers", "shopdesk"))     # where Lambda mounts the layer
    modules_before = len(sys.modules)
    if target == "boto3":
        started = time.perf_counter()
        import boto3

        boto3.client("dynamodb")
        return {"init_ms": (time.perf_counter() - started) * 1000, "modules": len(sys.modules) - modules_before}

    spec = importlib.util.spec_from_file_location("app", os.path.join(ROOT, "functions", target, "app.py"))
    assert spec and spec.loader
    started = time.perf_counter()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out: dict[str, object] = {"init_ms": (time.perf_counter() - started) * 1000,
                              "modules": len(sys.modules) - modules_before}
    if event_file:
        import json

        with open(event_file, encoding="utf-8") as file:
            event = json.load(file)
        clients = _count_clients()
        started = time.perf_counter()
        result = module.lambda_handler(event, Context())
        out["first_call_ms"] = (time.perf_counter() - started) * 1000
        out["first_call_clients"] = {name: clients.count(name) for name in sorted(set(clients))}
        out["first_call_result"] = result.get("statusCode", "ok") if isinstance(result, dict) else "ok"
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
