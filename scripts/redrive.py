"""Move the messages of a dead-letter queue back to the queue they came from, after a fix.

    python -m scripts.redrive <dead-letter queue name or URL> [--endpoint URL] [--region REGION]
    make redrive QUEUE=shopdesk-prod-work-dlq.fifo                # in AWS, with your credentials
    make redrive QUEUE=shopdesk-dev-work-dlq.fifo LOCAL=http://127.0.0.1:3000   # the local stack

In AWS it starts SQS's own redrive (``StartMessageMoveTask``: back to each message's source queue). Against an
emulator (the local stack's moto has no move task) it moves them itself: receive, send to the
one source queue (a FIFO message keeps its group, so replies of a conversation stay in order), then delete.
Redriving twice is harmless: every consumer is idempotent (dedupe markers, conditional writes).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import Any

import boto3
from botocore.exceptions import ClientError


def _client(endpoint: str | None, region: str | None) -> Any:
    return boto3.client("sqs", endpoint_url=endpoint or None, region_name=region or None)


def queue_url(sqs: Any, queue: str) -> str:
    return queue if queue.startswith(("http://", "https://")) else sqs.get_queue_url(QueueName=queue)["QueueUrl"]


def move_by_hand(sqs: Any, dlq_url: str, limit: int = 100_000) -> int:
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        raise SystemExit(f"{dlq_url} is the dead-letter queue of {len(sources)} queues; name one with SQS's redrive")
    target, moved = sources[0], 0
    fifo = target.endswith(".fifo")
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
                                       ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            kwargs: dict[str, Any] = {"QueueUrl": target, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            if fifo:
                kwargs["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                kwargs["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def redrive(sqs: Any, queue: str) -> dict[str, Any]:
    dlq_url = queue_url(sqs, queue)
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if ".amazonaws.com" in (sqs.meta.endpoint_url or ""):           # SQS itself: its own redrive task
        try:
            task = sqs.start_message_move_task(SourceArn=arn)
            return {"queue": dlq_url, "task": task["TaskHandle"]}
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("UnsupportedOperation", "InvalidParameterValue"):
                raise
    return {"queue": dlq_url, "moved": move_by_hand(sqs, dlq_url)}   # an emulator (moto has no move task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queue", help="the dead-letter queue's name or URL")
    parser.add_argument("--endpoint", help="an SQS endpoint (default: AWS)")
    parser.add_argument("--local", help="the local stack's URL: its AWS endpoint and region from GET /_local/aws")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    endpoint, region = args.endpoint, args.region
    if args.local:
        with urllib.request.urlopen(args.local.rstrip("/") + "/_local/aws", timeout=10) as answer:  # loopback
            where = json.load(answer)
        endpoint, region = where["endpoint"], where["region"]
    print(json.dumps(redrive(_client(endpoint, region), args.queue)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
