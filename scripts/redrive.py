"""Move what failed back to work after a fix: dead-letter queues shown, redriven, discarded or purged, safely.

    make redrive QUEUE=work                      the local stack (asks it where its AWS endpoint is)
    make redrive QUEUE=work ARGS=--dry-run       what waits there and why, changing nothing
    python -m scripts.redrive --queue outbound --stack shopdesk-prod --region eu-west-1     in AWS

Every dead-letter queue of the template is a ``--queue``; what each holds and what happens to it:

| --queue              | dead-letter queue            | a redrive (after the fix)                                      |
|----------------------|------------------------------|----------------------------------------------------------------|
| `work`               | `WorkDeadLetterQueue`        | back to `WorkQueue` (routing), same message group              |
| `outbound`           | `OutboundDeadLetterQueue`    | back to `OutboundQueue` (replies), same message group          |
| `ingest`             | `IngestRetryDeadLetterQueue` | back to `IngestRetryQueue` (Twilio requests the table could    |
|                      |                              | not take, replayed by `InboundTwilioFunction`), same group     |
| `privacy`            | `PrivacyDeadLetterQueue`     | back to `PrivacyQueue` (export and erase jobs), same group     |
| `inbound-mail`       | `InboundMailDeadLetterQueue` | `InboundEmailFunction` invoked again with each message (the S3 |
|                      |                              | event Lambda could not process), asynchronously (the local     |
|                      |                              | stack: ``POST /_local/functions/<id>/invoke``)                 |
| `email-events`       | `EmailEventsDeadLetterQueue` | POSTed again to the SES receipts webhook: each message is the  |
|                      |                              | signed SNS notification SNS could not deliver                  |
| `sweep`              | `SweepDeadLetterQueue`       | nothing to redrive: purge                                      |
| `live-failures`      | `LiveDeadLetterQueue`        | nothing to redrive: purge                                      |
| `label-failures`     | `LabelDeadLetterQueue`       | nothing to redrive: purge                                      |
| `analytics-failures` | `AnalyticsDeadLetterQueue`   | nothing to redrive: purge                                      |
| `search-failures`    | `SearchDeadLetterQueue`      | nothing to redrive: purge                                      |

Nothing to redrive: the stream consumers' failure queues hold descriptions of stream batches (shard, sequence
numbers, the function's error), not the records, and a stream keeps records 24 hours; the fix is the consumer's
own catch-up, or none (open inboxes refetch; a label item moves at its conversation's next change; those messages
stay out of the search index and those events out of the reports: docs/architecture.md says what replaying them
would take). A sweep the scheduler could not invoke was caught up by the next minute's run. Read why
(``--dry-run``), fix it, then ``--purge``: a queue left holding what was already dealt with keeps its alarm in
ALARM for 14 days and its dashboard line off 0, so the next failure looks like the last one (each new one still
pages: the template's new-dead-letter alarms).

Showing (``--dry-run``): each message's id (the id the consumer's "record failed" log lines carry:
``shopdesk.batch``), group, receive count, when it arrived, the attributes the sender put on it (SNS, Lambda and
EventBridge Scheduler write the error there) and its body, scrubbed as the logs are (``shopdesk.logs``: the
queues shopdesk writes carry ids only and lose nothing; an SES receipt's addresses and subject are hidden).

Discarding (``--discard ID [ID ...]``): a message that no fix will make work (a poison body) is deleted by its id,
and printed as it was, so the output is the record of what was thrown away; the rest stays for the redrive.
``--purge`` does the same for every message of a queue with nothing to redrive (not SQS's PurgeQueue, which
deletes unseen).

Moving is receive, send, then delete: a message is deleted from the dead-letter queue only after its copy
was accepted, so a crash in between leaves it in both, and the consumers' idempotency (every work item and
reply is keyed by its message id; a reply already sent is skipped) makes that, and redriving twice,
harmless. Within a FIFO group the order of the dead-letter queue is kept. Each copy gets a fresh
deduplication id (the original's plus a redrive stamp), or FIFO deduplication would drop it as a repeat
of the message that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

NOTHING = "nothing"
QUEUES: dict[str, tuple[str, str, str]] = {   # name: (dead-letter logical id, target logical id, kind)
    "work": ("WorkDeadLetterQueue", "WorkQueue", "queue"),
    "outbound": ("OutboundDeadLetterQueue", "OutboundQueue", "queue"),
    "ingest": ("IngestRetryDeadLetterQueue", "IngestRetryQueue", "queue"),
    "privacy": ("PrivacyDeadLetterQueue", "PrivacyQueue", "queue"),
    "inbound-mail": ("InboundMailDeadLetterQueue", "InboundEmailFunction", "function"),
    "email-events": ("EmailEventsDeadLetterQueue", "EmailEventsSubscription", "webhook"),
    "sweep": ("SweepDeadLetterQueue", "", NOTHING),
    "live-failures": ("LiveDeadLetterQueue", "", NOTHING),
    "label-failures": ("LabelDeadLetterQueue", "", NOTHING),
    "analytics-failures": ("AnalyticsDeadLetterQueue", "", NOTHING),
    "search-failures": ("SearchDeadLetterQueue", "", NOTHING),
}
WHY_NOTHING = {
    "sweep": "the next minute's sweep did what a missed one would have",
    "live-failures": "open inboxes caught up at their next refetch",
    "label-failures": "a conversation's label items move again at its next change",
    "analytics-failures": "they describe stream batches, not events; reports miss those events",
    "search-failures": "they describe stream batches, not messages; those stay out of the search index",
}
LOCAL_NAMES = {"WorkDeadLetterQueue": "work-dlq.fifo", "WorkQueue": "work.fifo",
               "OutboundDeadLetterQueue": "outbound-dlq.fifo", "OutboundQueue": "outbound.fifo",
               "IngestRetryDeadLetterQueue": "ingest-retry-dlq.fifo", "IngestRetryQueue": "ingest-retry.fifo",
               "InboundMailDeadLetterQueue": "inbound-mail-dlq",
               "PrivacyDeadLetterQueue": "privacy-dlq.fifo", "PrivacyQueue": "privacy.fifo",
               "EmailEventsDeadLetterQueue": "email-events-dlq", "SweepDeadLetterQueue": "sweep-dlq",
               "LiveDeadLetterQueue": "live-failures", "LabelDeadLetterQueue": "label-failures",
               "AnalyticsDeadLetterQueue": "analytics-failures", "SearchDeadLetterQueue": "search-failures"}
LOCAL_WEBHOOKS = {"EmailEventsSubscription": "/webhooks/email/sns"}
HOLD_SECONDS = 120          # a message being looked at stays out of sight this long (put back at once after)


@dataclass
class Moved:
    moved: int = 0
    failed: int = 0


# ---------------------------------------------------------------- what a message is, scrubbed


def _scrubbers() -> tuple[Any, Any]:
    """shopdesk.logs' scrubbing (the layer's code, as scripts.backfill reads it)."""
    layer = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "layers", "shopdesk")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    from shopdesk.logs import scrub, scrub_text
    return scrub, scrub_text


def describe(message: dict[str, Any]) -> str:
    """One message as an operator reads it: ids, receive count, arrival, attributes and body, scrubbed."""
    scrub, scrub_text = _scrubbers()
    attributes = message.get("Attributes", {})
    head = [message["MessageId"]]
    if attributes.get("MessageGroupId"):
        head.append(f"group {attributes['MessageGroupId']}")
    if attributes.get("ApproximateReceiveCount"):
        head.append(f"received {attributes['ApproximateReceiveCount']}")
    if attributes.get("SentTimestamp"):
        sent = datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, UTC)
        head.append(f"arrived {sent.isoformat(timespec='seconds').replace('+00:00', 'Z')}")
    lines = ["  ".join(head)]
    tags = {k: v.get("StringValue", v.get("BinaryValue")) for k, v in (message.get("MessageAttributes") or {}).items()}
    if tags:
        lines.append("  attributes: " + json.dumps(scrub(tags), default=str))
    try:
        body = json.dumps(scrub(_unwrapped(json.loads(message["Body"]))), default=str)
    except ValueError:
        body = scrub_text(message["Body"])
    lines.append("  body: " + body)
    return "\n".join(lines)


def _unwrapped(value: Any) -> Any:
    """JSON inside JSON (an SNS envelope's Message: an SES event) decoded, so its keys are scrubbed as keys."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _unwrapped(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _unwrapped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrapped(v) for v in value]
    return value


def _receive(sqs: Any, url: str, wanted: int = 10) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
                               VisibilityTimeout=HOLD_SECONDS, MessageAttributeNames=["All"],
                               MessageSystemAttributeNames=["All"]).get("Messages", [])


def _put_back(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages[start:start + 10])])


def _delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start:start + 10])])


def show(sqs: Any, dlq_url: str, *, limit: int | None = None, verb: str = "would redrive") -> int:
    """Print what waits (held out of sight while listed, then put back): nothing changes. A FIFO group shows the
    messages a receive hands out at its head; what waits behind them shows once they are gone."""
    held: list[dict[str, Any]] = []
    try:
        while limit is None or len(held) < limit:
            messages = _receive(sqs, dlq_url, 10 if limit is None else max(1, min(10, limit - len(held))))
            if not messages:
                break
            for m in messages:
                print(f"{verb} {describe(m)}")
            held.extend(messages)
    finally:
        _put_back(sqs, dlq_url, held)
    return len(held)


def discard(sqs: Any, dlq_url: str, message_ids: list[str]) -> tuple[list[str], list[str]]:
    """Delete the named messages (printed as they were: the audit of what was thrown away); put the rest back.
    Returns (discarded, not found)."""
    wanted, found, held = set(message_ids), [], []
    try:
        while wanted - set(found):
            messages = _receive(sqs, dlq_url)
            if not messages:
                break
            chosen = [m for m in messages if m["MessageId"] in wanted and m["MessageId"] not in found]
            held.extend(m for m in messages if m not in chosen)
            for m in chosen:
                _delete(sqs, dlq_url, [m])
                found.append(m["MessageId"])
                print(f"discarded {describe(m)}")
    finally:
        _put_back(sqs, dlq_url, held)
    return found, [i for i in message_ids if i not in found]


def purge(sqs: Any, dlq_url: str) -> int:
    """Print every message, then delete it (a queue with nothing to redrive, once its cause is dealt with)."""
    purged = 0
    while messages := _receive(sqs, dlq_url):
        for m in messages:
            print(f"purged {describe(m)}")
        _delete(sqs, dlq_url, messages)
        purged += len(messages)
    return purged


# ---------------------------------------------------------------- redrive


def move(sqs: Any, dlq_url: str, target_url: str, *, limit: int | None = None, dry_run: bool = False) -> Moved:
    """Receive from ``dlq_url``, send to ``target_url`` (same group), delete what was accepted."""
    if dry_run:
        return Moved(moved=show(sqs, dlq_url, limit=limit, verb="would move"))
    result = Moved()
    stamp = str(int(time.time()))
    fifo = target_url.endswith(".fifo")
    while limit is None or result.moved + result.failed < limit:
        wanted = 10 if limit is None else max(1, min(10, limit - result.moved - result.failed))
        received = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
                                       VisibilityTimeout=HOLD_SECONDS, MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"])
        messages = received.get("Messages", [])
        if not messages:
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
    """Each message of an asynchronous invocation's dead-letter queue holds the event (``_event_of``): invoke it
    again. ``lambda_client``:
    boto3's (Invoke, InvocationType Event), or ``LocalInvoker`` on the local stack."""
    if dry_run:
        return Moved(moved=show(sqs, dlq_url, limit=limit, verb=f"would invoke {function_name} with"))
    result = Moved()
    while limit is None or result.moved + result.failed < limit:
        received = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       VisibilityTimeout=HOLD_SECONDS)
        messages = received.get("Messages", [])
        if not messages:
            break
        for m in messages:
            answer = lambda_client.invoke(FunctionName=function_name, InvocationType="Event",
                                          Payload=_event_of(m["Body"]))
            if answer.get("StatusCode") == 202:
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                result.moved += 1
            else:
                result.failed += 1
    return result


def _event_of(body: str) -> str:
    """The event a dead-lettered asynchronous invocation had: an OnFailure destination's message is Lambda's
    invocation record, the event in its ``requestPayload``; a DeadLetterQueue's is the event itself."""
    try:
        record = json.loads(body)
    except ValueError:
        return body
    if isinstance(record, dict) and "requestPayload" in record and "requestContext" in record:
        return json.dumps(record["requestPayload"])
    return body


@dataclass
class LocalInvoker:
    """Lambda's asynchronous Invoke on the local stack, which runs functions without Lambda: the event is posted to
    ``POST /_local/functions/<logical id>/invoke``, which answers 202 and runs it as Lambda would (retries, then the
    function's dead-letter queue)."""

    base_url: str

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base_url}/_local/functions/{FunctionName}/invoke",
                                         data=Payload.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return {"StatusCode": answer.status}
        except urllib.error.HTTPError as exc:
            print(f"not invoked: {FunctionName}: HTTP {exc.code}", file=sys.stderr)
            return {"StatusCode": exc.code}
        except OSError as exc:
            print(f"not invoked: {FunctionName}: {exc}", file=sys.stderr)
            return {"StatusCode": 0}


def post(sqs: Any, dlq_url: str, endpoint: str, *, limit: int | None = None, dry_run: bool = False) -> Moved:
    """Each message of an SNS subscription's dead-letter queue is the notification SNS could not deliver (its
    signed envelope): POST it to the endpoint again, as SNS would; delete it once the endpoint took it (2xx)."""
    if dry_run:
        return Moved(moved=show(sqs, dlq_url, limit=limit, verb=f"would post to {endpoint}"))
    result = Moved()
    while limit is None or result.moved + result.failed < limit:
        messages = _receive(sqs, dlq_url)
        if not messages:
            break
        for m in messages:
            try:
                envelope = json.loads(m["Body"])
            except ValueError:
                envelope = {}
            request = urllib.request.Request(endpoint, data=m["Body"].encode(), method="POST", headers={
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": str(envelope.get("Type", "Notification")),
                "x-amz-sns-message-id": str(envelope.get("MessageId", m["MessageId"])),
                "x-amz-sns-topic-arn": str(envelope.get("TopicArn", ""))})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                print(f"not posted: {m['MessageId']}: {exc}", file=sys.stderr)
                status = 0
            if 200 <= status < 300:
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                result.moved += 1
            else:
                if status:
                    print(f"not posted: {m['MessageId']}: HTTP {status}", file=sys.stderr)
                result.failed += 1
        if result.failed:
            break              # what failed stays (visible again in two minutes)
    return result


# ---------------------------------------------------------------- where


def _local_port() -> str:
    return os.environ.get("PORT", "3000")


def _local_endpoint() -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{_local_port()}/_local/aws", timeout=5) as answer:
        return str(json.loads(answer.read())["endpoint"])


def _resources(args: argparse.Namespace, names: tuple[str, ...]) -> tuple[Any, list[str]]:
    """(boto3 client kwargs, where each logical id is: a queue's URL, a function's name, a webhook's URL)."""
    if args.stack:
        cloudformation = boto3.client("cloudformation", region_name=args.region)
        ids = [cloudformation.describe_stack_resource(StackName=args.stack, LogicalResourceId=name)
               ["StackResourceDetail"]["PhysicalResourceId"] for name in names]
        if "EmailEventsSubscription" in names:       # the subscription's ARN: SNS knows where it delivers
            sns = boto3.client("sns", region_name=args.region)
            ids = [sns.get_subscription_attributes(SubscriptionArn=i)["Attributes"]["Endpoint"]
                   if name == "EmailEventsSubscription" else i for name, i in zip(names, ids, strict=True)]
        return {"region_name": args.region}, ids
    endpoint = args.endpoint_url or _local_endpoint()
    client_args = {"region_name": args.region or "us-east-1", "endpoint_url": endpoint,
                   "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs = boto3.client("sqs", **client_args)
    ids = []
    for name in names:
        if name in LOCAL_NAMES:
            ids.append(sqs.get_queue_url(QueueName=f"shopdesk-{args.stage}-{LOCAL_NAMES[name]}")["QueueUrl"])
        elif name in LOCAL_WEBHOOKS:
            ids.append(f"http://127.0.0.1:{_local_port()}{LOCAL_WEBHOOKS[name]}")
        else:
            ids.append(name)
    return client_args, ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True, choices=sorted(QUEUES))
    parser.add_argument("--stack", help="the CloudFormation stack (AWS); without it, the local stack")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", help="local: the AWS endpoint (default: asked of the local stack)")
    parser.add_argument("--stage", default="dev", help="local: the stage in the resource names")
    parser.add_argument("--max", type=int, default=None, help="redrive (or show) at most this many")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--dry-run", action="store_true",
                        help="show what waits (ids, attributes, scrubbed bodies) and what would happen; change nothing")
    action.add_argument("--discard", nargs="+", metavar="MESSAGE_ID",
                        help="delete these messages (poison no fix will mend), printing each as it was")
    action.add_argument("--purge", action="store_true",
                        help="a queue with nothing to redrive: print every message, then delete it")
    args = parser.parse_args(argv)
    dlq_name, target_name, kind = QUEUES[args.queue]
    if args.purge and kind != NOTHING:
        parser.error(f"--queue {args.queue} is redriven after the fix; --discard <id> drops a message no fix mends")
    # the target: a queue's URL or a webhook's address; a function's name, in AWS (locally its logical id)
    names = (dlq_name, target_name) if kind != NOTHING and not (args.discard or args.purge) else (dlq_name,)
    client_args, where = _resources(args, names)
    sqs = boto3.client("sqs", **client_args)
    dlq_url = where[0]
    if args.discard:
        done, missing = discard(sqs, dlq_url, args.discard)
        for message_id in missing:
            print(f"not found: {message_id} (gone already, or held behind earlier messages of its FIFO group)",
                  file=sys.stderr)
        print(f"{args.queue}: discarded {len(done)}, not found {len(missing)}")
        return 1 if missing else 0
    if args.purge:
        print(f"{args.queue}: purged {purge(sqs, dlq_url)}")
        return 0
    if kind == NOTHING:
        waiting = show(sqs, dlq_url, limit=args.max, verb="waits:")
        print(f"{args.queue}: nothing to redrive ({WHY_NOTHING[args.queue]}); {waiting} waiting. "
              f"After the fix: --purge")
        return 0
    if kind == "queue":
        result = move(sqs, dlq_url, where[-1], limit=args.max, dry_run=args.dry_run)
    elif kind == "webhook":
        result = post(sqs, dlq_url, where[-1], limit=args.max, dry_run=args.dry_run)
    else:
        functions = boto3.client("lambda", **client_args) if args.stack else \
            LocalInvoker(f"http://127.0.0.1:{_local_port()}")
        result = invoke(sqs, functions, dlq_url, where[-1], limit=args.max, dry_run=args.dry_run)
    done, would = {"queue": ("moved", "would move"), "webhook": ("posted", "would post"),
                   "function": ("invoked", "would invoke")}[kind]
    print(f"{args.queue}: {would if args.dry_run else done} {result.moved}, failed {result.failed}")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
