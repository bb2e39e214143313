"""Move what failed back to work after a fix: dead-letter queues redriven, safely.

    make redrive QUEUE=work                      the local stack (asks it where its AWS endpoint is)
    python -m scripts.redrive --queue outbound --stack shopdesk-prod --region eu-west-1     in AWS

What each queue holds and how it goes back:

| --queue        | dead-letter queue                | back to                                                    |
|----------------|----------------------------------|------------------------------------------------------------|
| `work`         | `WorkDeadLetterQueue`            | `WorkQueue` (routing), same message group                  |
| `outbound`     | `OutboundDeadLetterQueue`        | `OutboundQueue` (replies), same message group              |
| `inbound-mail` | `InboundMailDeadLetterQueue`     | `InboundEmailFunction`, invoked asynchronously (AWS only:  |
|                |                                  | the message is the S3 event Lambda could not process)      |
| `privacy`      | `PrivacyDeadLetterQueue`         | `PrivacyQueue` (export and erase jobs), same message group |

Moving is receive, send, then delete: a message is deleted from the dead-letter queue only after its copy
was accepted, so a crash in between leaves it in both, and the consumers' idempotency (every work item and
reply is keyed by its message id; a reply already sent is skipped) makes that, and redriving twice,
harmless. Within a FIFO group the order of the dead-letter queue is kept. Each copy gets a fresh
deduplication id (the original's plus a redrive stamp), or FIFO deduplication would drop it as a repeat
of the message that failed.

The stream consumers' failure queues (`live-failures`, `search-failures`) hold descriptions of stream
batches, not the records: a batch past the stream's 24 hours cannot be replayed, so the fix there is to
rebuild (the search index from the table). The SLA sweep's schedule has a dead-letter queue too; the next
sweep (every minute) catches up with whatever a failed one left, so it needs no redrive.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

QUEUES: dict[str, tuple[str, str, str]] = {   # name: (dead-letter logical id, target logical id, kind)
    "work": ("WorkDeadLetterQueue", "WorkQueue", "queue"),
    "outbound": ("OutboundDeadLetterQueue", "OutboundQueue", "queue"),
    "inbound-mail": ("InboundMailDeadLetterQueue", "InboundEmailFunction", "function"),
    "privacy": ("PrivacyDeadLetterQueue", "PrivacyQueue", "queue"),
}
LOCAL_NAMES = {"WorkDeadLetterQueue": "work-dlq.fifo", "WorkQueue": "work.fifo",
               "OutboundDeadLetterQueue": "outbound-dlq.fifo", "OutboundQueue": "outbound.fifo",
               "InboundMailDeadLetterQueue": "inbound-mail-dlq",
               "PrivacyDeadLetterQueue": "privacy-dlq.fifo", "PrivacyQueue": "privacy.fifo"}


@dataclass
class Moved:
    moved: int = 0
    failed: int = 0


def move(sqs: Any, dlq_url: str, target_url: str, *, limit: int | None = None, dry_run: bool = False) -> Moved:
    """Receive from ``dlq_url``, send to ``target_url`` (same group), delete what was accepted."""
    result = Moved()
    stamp = str(int(time.time()))
    fifo = target_url.endswith(".fifo")
    while limit is None or result.moved + result.failed < limit:
        wanted = 10 if limit is None else max(1, min(10, limit - result.moved - result.failed))
        received = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
                                       VisibilityTimeout=120, MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"])
        messages = received.get("Messages", [])
        if not messages:
            break
        if dry_run:
            for m in messages:
                print(f"would move {m['MessageId']} (group {m.get('Attributes', {}).get('MessageGroupId')})")
            sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages)])
            result.moved += len(messages)
            break
        entries = []
        for i, m in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            if fifo:
                attributes = m.get("Attributes", {})
                entry["MessageGroupId"] = attributes.get("MessageGroupId", "redrive")
                original = attributes.get("MessageDeduplicationId") or m["MessageId"]
                entry["MessageDeduplicationId"] = f"{original[:100]}-redrive-{stamp}"
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        accepted = {s["Id"] for s in sent.get("Successful", [])}
        if accepted:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if str(i) in accepted])
        result.moved += len(accepted)
        result.failed += len(messages) - len(accepted)
        for failure in sent.get("Failed", []):
            print(f"not moved: {messages[int(failure['Id'])]['MessageId']}: {failure.get('Message')}", file=sys.stderr)
        if len(accepted) < len(messages):
            break              # what failed stays in the dead-letter queue (visible again in two minutes)
    return result


def invoke(sqs: Any, lambda_client: Any, dlq_url: str, function_name: str, *, limit: int | None = None,
           dry_run: bool = False) -> Moved:
    """Each message of an asynchronous invocation's dead-letter queue is the event: invoke it again."""
    result = Moved()
    while limit is None or result.moved + result.failed < limit:
        received = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       VisibilityTimeout=120)
        messages = received.get("Messages", [])
        if not messages:
            break
        for m in messages:
            if dry_run:
                print(f"would invoke {function_name} with {m['MessageId']}")
                result.moved += 1
                continue
            answer = lambda_client.invoke(FunctionName=function_name, InvocationType="Event", Payload=m["Body"])
            if answer.get("StatusCode") == 202:
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                result.moved += 1
            else:
                result.failed += 1
        if dry_run:
            break
    return result


def _local_endpoint() -> str:
    port = os.environ.get("PORT", "3000")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/aws", timeout=5) as answer:
        return str(json.loads(answer.read())["endpoint"])


def _resources(args: argparse.Namespace, names: tuple[str, str]) -> tuple[Any, list[str]]:
    """(boto3 session kwargs, physical ids of the two logical ids)."""
    if args.stack:
        cloudformation = boto3.client("cloudformation", region_name=args.region)
        ids = [cloudformation.describe_stack_resource(StackName=args.stack, LogicalResourceId=name)
               ["StackResourceDetail"]["PhysicalResourceId"] for name in names]
        return {"region_name": args.region}, ids
    endpoint = args.endpoint_url or _local_endpoint()
    client_args = {"region_name": args.region or "us-east-1", "endpoint_url": endpoint,
                   "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs = boto3.client("sqs", **client_args)
    ids = [sqs.get_queue_url(QueueName=f"shopdesk-{args.stage}-{LOCAL_NAMES[name]}")["QueueUrl"]
           if name in LOCAL_NAMES else name for name in names]
    return client_args, ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True, choices=sorted(QUEUES))
    parser.add_argument("--stack", help="the CloudFormation stack (AWS); without it, the local stack")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", help="local: the AWS endpoint (default: asked of the local stack)")
    parser.add_argument("--stage", default="dev", help="local: the stage in the resource names")
    parser.add_argument("--max", type=int, default=None, help="move at most this many")
    parser.add_argument("--dry-run", action="store_true", help="list what would move, change nothing")
    args = parser.parse_args(argv)
    dlq_name, target_name, kind = QUEUES[args.queue]
    if kind == "function" and not args.stack:
        parser.error(f"--queue {args.queue} re-invokes a Lambda function: AWS only (give --stack)")
    client_args, (dlq_url, target) = _resources(args, (dlq_name, target_name))
    sqs = boto3.client("sqs", **client_args)
    if kind == "queue":
        result = move(sqs, dlq_url, target, limit=args.max, dry_run=args.dry_run)
    else:
        result = invoke(sqs, boto3.client("lambda", **client_args), dlq_url, target, limit=args.max,
                        dry_run=args.dry_run)
    verb = "would move" if args.dry_run else "moved"
    print(f"{args.queue}: {verb} {result.moved}, failed {result.failed}")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
