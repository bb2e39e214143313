"""SNS alerts for people: a support lead's pager, e-mail or chat subscribes to the topic."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from shopdesk.dal.aws import client


class AlertTopic:
    def __init__(self, arn: str):
        self.arn = arn

    def publish(self, alerts: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """(subject, detail) pairs, ten per request."""
        entries = [{"Id": str(i), "Subject": subject[:100], "Message": json.dumps(detail, ensure_ascii=False),
                    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": str(detail.get("kind", ""))}}}
                   for i, (subject, detail) in enumerate(alerts)]
        for start in range(0, len(entries), 10):
            batch = entries[start:start + 10]
            response = client("sns").publish_batch(TopicArn=self.arn, PublishBatchRequestEntries=batch)
            if response.get("Failed"):
                raise RuntimeError(f"{len(response['Failed'])} SLA alerts refused by SNS")
