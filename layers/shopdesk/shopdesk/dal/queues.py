"""SQS FIFO queues: the work queue (routing) and the outbound queue (reply dispatch)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shopdesk.dal.aws import client


class Queue:
    def __init__(self, url: str):
        self.url = url

    def send(self, body: Mapping[str, Any], *, group: str, dedup_id: str) -> None:
        client("sqs").send_message(QueueUrl=self.url, MessageBody=json.dumps(body, separators=(",", ":")),
                                   MessageGroupId=group, MessageDeduplicationId=dedup_id[:128])

    def delay_retries(self, receipts: Mapping[str, int]) -> None:
        """Hide failed messages for their backoff delay (receipt handle -> seconds)."""
        entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": max(0, min(seconds, 43200))}
                   for i, (handle, seconds) in enumerate(receipts.items())]
        for start in range(0, len(entries), 10):
            client("sqs").change_message_visibility_batch(QueueUrl=self.url, Entries=entries[start:start + 10])
